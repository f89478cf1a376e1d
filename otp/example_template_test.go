package otp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
)

// Messages from the shipped templates, in the person's language, with a WebOTP line, and a
// code bound to the payment it confirms: the same code with another amount does not match.
func ExampleTemplates() {
	ctx := context.Background()
	sms := memory.NewSMSOutbox()
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("a secret of at least 32 bytes!!!")}
	cfg.Templates = &otp.Templates{ServiceName: "Diia"} // uk, en and es, "en" by default
	cfg.WebOTPDomain = "pay.example.com"
	codes, err := otp.NewService(otp.Deps{
		Store:   memory.NewOTPStore(),
		SMS:     sms,
		Limiter: memory.NewRateLimiter(),
		Clock:   memory.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)),
	}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	preview, _ := codes.RenderMessage(otp.IssueRequest{Locale: "es-MX"}, "123456")
	fmt.Println(preview)
	fmt.Println("segments:", otp.CountSMS(preview).Segments, otp.CountSMS(preview).Encoding)

	binding := []byte("amount=100.00 EUR;payee=ACME")
	_, err = codes.Issue(ctx, otp.IssueRequest{
		Purpose: "payment", Subject: "pay-7", Recipient: "+380931234585", Locale: "uk-UA",
		Binding: binding, Details: map[string]string{"сума": "100.00 EUR", "одержувач": "ACME"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := sms.Last("+380931234585")
	lines := strings.Split(msg.Body, "\n")
	code := strings.TrimPrefix(lines[len(lines)-1], "@pay.example.com #")
	fmt.Println(strings.ReplaceAll(msg.Body, code, "NNNNNN"))
	fmt.Println("segments:", otp.CountSMS(msg.Body).Segments, otp.CountSMS(msg.Body).Encoding)

	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "payment", Subject: "pay-7", Code: code,
		Binding: []byte("amount=900.00 EUR;payee=ACME")})
	fmt.Println("another amount:", errors.Is(err, otp.ErrWrongCode))
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "payment", Subject: "pay-7", Code: code, Binding: binding})
	fmt.Println("the amount sent:", err == nil)
	// Output:
	// 123456 es tu codigo de verificacion de Diia. Caduca en 10 min.
	// No compartas este codigo con nadie.
	//
	// @pay.example.com #123456
	// segments: 1 GSM-7
	// NNNNNN — ваш код підтвердження Diia. Дійсний 10 хв. одержувач: ACME. сума: 100.00 EUR.
	// Нікому не повідомляйте цей код.
	//
	// @pay.example.com #NNNNNN
	// segments: 3 UCS-2
	// another amount: true
	// the amount sent: true
}

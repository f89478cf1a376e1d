package otp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
)

func Example() {
	ctx := context.Background()
	sms := memory.NewSMSOutbox()
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("a secret of at least 32 bytes!!!")}
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

	issued, err := codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-42", Recipient: "+380931234585"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("code expires at", issued.ExpiresAt.Format(time.Kitchen))

	// The person reads the SMS and types the code.
	msg, _ := sms.Last("+380931234585")
	typed := strings.TrimSuffix(strings.Fields(msg.Body)[4], ".")

	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: typed})
	fmt.Println("first use:", err == nil)

	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: typed})
	fmt.Println("second use:", err)
	fmt.Println("invalid input:", errors.Is(err, verifykit.ErrInvalidInput), "already used:", errors.Is(err, otp.ErrAlreadyUsed))
	// Output:
	// code expires at 9:10AM
	// first use: true
	// second use: Verification code already used: $.code was already used; 0 attempts left: otp: code already used
	// invalid input: true already used: true
}

package otp_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// Stopping SMS abuse: codes go only to valid mobile numbers of the regions you serve, each
// calling code has a send budget, a prefix whose codes are not verified pauses, and the
// configuration is checked against NIST SP 800-63B-4. The defaults turn every control on;
// this host narrows the regions, sets the budgets from its traffic and, for a login, allows
// fewer accounts per phone.
func Example_stoppingSMSAbuse() {
	ctx := context.Background()
	cfg := otp.DefaultConfig() // premium-rate, shared-cost, VoIP and fixed-line numbers refused
	cfg.Secrets = [][]byte{[]byte("an example secret of 32 bytes...")}
	cfg.Phones.AllowedRegions = []string{"UA", "ES"}
	cfg.Pumping.CallingCodeLimits = []ports.RateLimit{{Max: 2000, Per: time.Hour}, {Max: 20000, Per: 24 * time.Hour}}
	cfg.MaxSubjectsPerRecipient = 3
	if err := cfg.Check(otp.NIST80063B4()); err != nil {
		fmt.Println(err)
		return
	}
	sms := memory.NewSMSOutbox()
	codes, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), SMS: sms, Limiter: memory.NewRateLimiter()}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-42", Recipient: "+380 93 123-45-85"})
	msg, _ := sms.Last("+380931234585")
	fmt.Println("sent to", ports.MaskPhone(msg.To), err)

	for _, to := range []string{"+12025550143", "+34902123456"} {
		_, err = codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-43", Recipient: to})
		var ve *verifykit.Error
		if errors.As(err, &ve) {
			fmt.Println(ve.Invalid[0].Entry, ve.Invalid[0].Description)
		}
	}
	// Output:
	// sent to +38093*****85 <nil>
	// $.recipient codes are not sent to numbers of region US
	// $.recipient codes are not sent to numbers of type SHARED_COST
}

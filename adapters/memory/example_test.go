package memory_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// The memory adapters run every flow in one process, which is what a host's own tests
// want: a clock they move, tokens they register, and outboxes they read or make fail.
func Example() {
	ctx := context.Background()
	clock := memory.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	sms := memory.NewSMSOutbox()
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("a secret of at least 32 bytes!!!")}
	codes, err := otp.NewService(otp.Deps{
		Store: memory.NewOTPStore(), SMS: sms, Limiter: memory.NewRateLimiter(), Clock: clock,
	}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	login := otp.IssueRequest{Purpose: "login", Subject: "user-42", Recipient: "+380931234585"}

	// The gateway refuses the number: the failure is permanent, nothing is retried.
	sms.FailNext(1, true)
	_, err = codes.Issue(ctx, login)
	fmt.Println("refused:", errors.Is(err, ports.ErrPermanent))

	// A minute later the gateway works again.
	clock.Advance(time.Minute)
	if _, err := codes.Issue(ctx, login); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent:", len(sms.Messages()), "attempts:", len(sms.Attempts()))

	tokens := memory.NewTokens()
	tokens.Add("demo", ports.Claims{Subject: "user-42", Scopes: []string{"login"}})
	claims, err := tokens.VerifyToken(ctx, "demo")
	fmt.Println(claims.Subject, err)
	// Output:
	// refused: true
	// sent: 1 attempts: 2
	// user-42 <nil>
}

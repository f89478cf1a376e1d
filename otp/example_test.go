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
	"github.com/verifykit/verifykit/ports"
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

// A flow whose code lives in the record it confirms draws the code, puts it into the
// record's Verification inside the record's own atomic write, sends it once that write
// committed, and checks it inside a later write of the same record.
func ExampleService_Put() {
	ctx := context.Background()
	sms := memory.NewSMSOutbox()
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("a secret of at least 32 bytes!!!")}
	clock := memory.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	codes, err := otp.NewService(otp.Deps{
		Store: memory.NewOTPStore(), SMS: sms, Limiter: memory.NewRateLimiter(), Clock: clock,
	}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The record a host keeps in its own store, with its Verification as a field.
	var request struct {
		Status       string
		Verification ports.Verification
	}

	draft, err := codes.Draw(ctx, otp.IssueRequest{Purpose: "person_request", Subject: "r-1", Recipient: "+380931234585"})
	if err != nil {
		fmt.Println(err) // 429 when the recipient had too many codes: nothing was recorded
		return
	}
	// Inside the record's Update (on failure: codes.Release(ctx, draft)):
	superseded := codes.Put(&request.Verification, draft)
	request.Status = "NEW"
	// After the Update committed:
	if err := codes.Send(ctx, draft); err != nil {
		otp.MarkUndeliverable(&request.Verification, draft.ID()) // in a second Update
		fmt.Println(err)
		return
	}
	fmt.Println("superseded:", superseded)

	msg, _ := sms.Last("+380931234585")
	typed := " " + strings.TrimSuffix(strings.Fields(msg.Body)[4], ".") + "\n"

	// Inside the Update that approves the request:
	if _, err := codes.Check(&request.Verification, typed, clock.Now()); err == nil {
		request.Status = "APPROVED"
	}
	fmt.Println(request.Status, request.Verification.Code.State)
	fmt.Println("repeated call completed:", codes.Completed(request.Verification, typed))
	// Output:
	// superseded: 0
	// APPROVED verified
	// repeated call completed: true
}

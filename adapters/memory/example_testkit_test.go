package memory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// exampleT is the memory.TestingT of the example; a test passes its *testing.T.
type exampleT struct{}

func (exampleT) Helper()                           {}
func (exampleT) Fatalf(format string, args ...any) { fmt.Printf("FATAL: "+format+"\n", args...) }

// A host's test builds its flows on a test kit: the engine, the outboxes, the clock, the
// tokens and the log capture all come with it.
func ExampleNewTestKit() {
	var t exampleT // in a test: the *testing.T
	ctx := context.Background()
	k := memory.NewTestKit(t, memory.TestKitConfig{
		OTP: func(c *otp.Config) { c.TTL = 2 * time.Minute },
	})
	token := k.AddToken("tok-user-42", ports.Claims{Scopes: []string{"login"}})
	claims, _ := k.Tokens.VerifyToken(ctx, token)
	fmt.Println(claims.Subject, claims.ExpiresAt.After(k.Clock.Now()))

	// The gateway refuses the number once: the failure is permanent, nothing is retried.
	login := otp.IssueRequest{Purpose: "login", Subject: "user-42", Recipient: "+380931234585"}
	k.SMS.FailNext(1, true)
	_, err := k.OTP.Issue(ctx, login)
	fmt.Println("refused:", errors.Is(err, ports.ErrPermanent))

	// A minute later it delivers; the code is read from the outbox.
	k.Clock.Advance(time.Minute)
	if _, err := k.OTP.Issue(ctx, login); err != nil {
		fmt.Println(err)
		return
	}
	code := k.LastSMSCode(t, login.Recipient)
	_, err = k.OTP.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: code})
	fmt.Println("verified:", err == nil, "attempts:", len(k.SMS.Attempts()))
	fmt.Println("code in the logs:", strings.Contains(k.Logs.String(), code))
	// Output:
	// tok-user-42 true
	// refused: true
	// verified: true attempts: 2
	// code in the logs: false
}

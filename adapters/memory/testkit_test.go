package memory_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// fatalRecorder is a memory.TestingT that records what the kit fails with.
type fatalRecorder struct{ fatals []string }

func (*fatalRecorder) Helper() {}
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatals = append(r.fatals, fmt.Sprintf(format, args...))
}

func TestCodeIn(t *testing.T) {
	for _, tc := range []struct {
		body, want string
	}{
		{"Your verification code is 482913. It is valid for 10 minutes.", "482913"},
		{"Ваш код 4829. Дійсний 10 хвилин.", "4829"},
		{"Pay 100.00 EUR to ACME with 73920145\n\n@pay.example.com #73920145", "73920145"},
		{"1234567890", "1234567890"},
		{"Code 12345678901 is too long, 123 too short, ab1234 and 1234x are not codes", ""},
		{"No code here, only 15 minutes.", ""},
	} {
		got, ok := memory.CodeIn(tc.body)
		require.Equal(t, tc.want, got, tc.body)
		require.Equal(t, tc.want != "", ok, tc.body)
	}
}

func TestTestKit(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	k := memory.NewTestKit(t, memory.TestKitConfig{Start: start, OTP: func(c *otp.Config) { c.Digits = 8 }})
	require.Equal(t, start, k.Clock.Now())

	k.AddToken("tok", ports.Claims{Scopes: []string{"s"}})
	k.AddToken("expired", ports.Claims{Subject: "someone", ExpiresAt: start})
	c, err := k.Tokens.VerifyToken(ctx, "tok")
	require.NoError(t, err)
	require.Equal(t, ports.Claims{Subject: "tok", Scopes: []string{"s"}, ExpiresAt: start.Add(memory.TestTokenLifetime)}, c)
	c, err = k.Tokens.VerifyToken(ctx, "expired")
	require.NoError(t, err)
	require.Equal(t, "someone", c.Subject)
	require.Equal(t, start, c.ExpiresAt, "claims given are kept")

	_, err = k.OTP.Issue(ctx, otp.IssueRequest{Purpose: "p", Subject: "s", Recipient: "+380931234585"})
	require.NoError(t, err)
	code := k.LastSMSCode(t, "+380931234585")
	require.Len(t, code, 8, "the kit's engine has the config edited")
	_, err = k.OTP.Verify(ctx, otp.VerifyRequest{Purpose: "p", Subject: "s", Code: code})
	require.NoError(t, err)
	require.Contains(t, k.Logs.String(), "level=", "the engine logs to the kit")
	require.NotContains(t, k.Logs.String(), code)

	var rec fatalRecorder
	require.Empty(t, k.LastSMSCode(&rec, "+34600111222"))
	require.Equal(t, []string{"no SMS was delivered to +3460*****22"}, rec.fatals, "the phone is masked")
}

func TestNewTestEngine(t *testing.T) {
	ctx := context.Background()
	sms := memory.NewSMSOutbox()
	codes := memory.NewOTPStore()
	e := memory.NewTestEngine(t, otp.Deps{Store: codes, SMS: sms}, nil)
	sms.FailNext(2, false)
	_, err := e.Issue(ctx, otp.IssueRequest{Purpose: "p", Subject: "s", Recipient: "+380931234585"})
	require.NoError(t, err, "retried twice, 1 ms apart")
	require.Len(t, sms.Attempts(), 3)
	_, err = codes.Get(ctx, "p", "s")
	require.NoError(t, err, "the code is in the store given")

	cfg := memory.TestOTPConfig()
	require.Equal(t, [][]byte{memory.TestSecret()}, cfg.Secrets)
	memory.TestSecret()[0] = 'X'
	require.Equal(t, byte('v'), memory.TestSecret()[0], "every call returns its own copy")

	var rec fatalRecorder
	require.Nil(t, memory.NewTestEngine(&rec, otp.Deps{SMS: sms}, func(c *otp.Config) { c.Digits = 2 }))
	require.Len(t, rec.fatals, 1)
	require.Contains(t, rec.fatals[0], "Digits")
}

func TestLogBufferTakesConcurrentWrites(t *testing.T) {
	var b memory.LogBuffer
	logger := b.Logger()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { logger.Debug("line", "i", i) })
	}
	wg.Wait()
	require.Equal(t, 50, strings.Count(b.String(), "level=DEBUG msg=line"))
}

package porttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// stepClock is a clock that moves only when told to.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// runOTPEngineOutbox runs standalone codes of the otp engine (otp.Service) on s — issued, a
// wrong attempt, verified, issued again, a wrong attempt on the new code — and checks the
// events they leave in the outbox, end to end: one per stored change, in order, about the
// code they concern, each carrying the Version of the Verification its write stored (1, 2,
// 3, ... across the codes of one purpose and subject). Its clock starts at the wall clock's
// time, so stores that expire keys by the server's clock keep them.
func runOTPEngineOutbox(t *testing.T, s OTPOutboxStores) {
	ctx := context.Background()
	clock := &stepClock{now: time.Now().UTC().Truncate(time.Second)}
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("porttest-secret-of-32-bytes-at-least")}
	codes, err := otp.NewService(otp.Deps{Store: s.Store, Limiter: s.Limiter, Clock: clock}, cfg)
	require.NoError(t, err)
	wrong := func(code string) string { // another code of the same length
		b := []byte(code)
		b[0] = '0' + (b[0]-'0'+1)%10
		return string(b)
	}
	req := otp.IssueRequest{Purpose: "login", Subject: "user-1"}
	first, err := codes.IssueExternal(ctx, req)
	require.NoError(t, err)
	clock.advance(time.Second)
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: wrong(first.Code)})
	require.ErrorIs(t, err, otp.ErrWrongCode)
	clock.advance(time.Second)
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: first.Code})
	require.NoError(t, err)
	clock.advance(time.Minute) // past the send limit
	second, err := codes.IssueExternal(ctx, req)
	require.NoError(t, err)
	clock.advance(time.Second)
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: wrong(second.Code)})
	require.ErrorIs(t, err, otp.ErrWrongCode)

	type seen struct {
		Type, AggregateID, Outcome string
		Version                    int64
	}
	var got []seen
	for _, ev := range outboxEventsOf(t, s.Outbox, first.ID, second.ID) {
		require.Equal(t, "otp_code", ev.AggregateType)
		got = append(got, seen{ev.Type, ev.AggregateID, ev.Outcome, ev.AggregateVersion})
	}
	require.Equal(t, []seen{
		{otp.EventCodeIssued, first.ID, ports.OutcomeSucceeded, 1},
		{otp.EventCodeFailed, first.ID, ports.OutcomeRefused, 2},
		{otp.EventCodeVerified, first.ID, ports.OutcomeSucceeded, 3},
		{otp.EventCodeIssued, second.ID, ports.OutcomeSucceeded, 4},
		{otp.EventCodeFailed, second.ID, ports.OutcomeRefused, 5},
	}, got, "every stored change has its event, in order, with the version it stored")
	v, err := codes.Codes(ctx, "login", "user-1")
	require.NoError(t, err)
	require.EqualValues(t, 5, v.Version, "the Verification holds the version of its last write")
}

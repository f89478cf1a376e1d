package memory_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// countingOTPStore is a memory.OTPStore that counts the events the writes hand it.
type countingOTPStore struct {
	*memory.OTPStore
	events atomic.Int64
}

func (s *countingOTPStore) Update(ctx context.Context, purpose, subject string, fn func(*ports.Verification) error) (ports.Verification, error) {
	return s.OTPStore.Update(ctx, purpose, subject, func(v *ports.Verification) error {
		err := fn(v)
		s.events.Add(int64(len(v.Outbox)))
		return err
	})
}

// countingProcessStore is a memory.ProcessStore that counts the events the writes hand it.
type countingProcessStore struct {
	*memory.ProcessStore
	events atomic.Int64
}

func (s *countingProcessStore) Create(ctx context.Context, rec ports.ProcessRecord) error {
	s.events.Add(int64(len(rec.Outbox)))
	return s.ProcessStore.Create(ctx, rec)
}

// TestFlowsBuildNoEventsForAStoreThatDropsThem checks that the engine and the flows hand
// a memory store no events while it has no outbox to keep them (KeepsEvents), and every
// event once it has one.
func TestFlowsBuildNoEventsForAStoreThatDropsThem(t *testing.T) {
	clock := memory.NewClock(time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC))
	codes := &countingOTPStore{OTPStore: memory.NewOTPStore()}
	procs := &countingProcessStore{ProcessStore: memory.NewProcessStore()}
	tokens := memory.NewTokens()
	tokens.Add("admin", ports.Claims{OrgID: "org-a", Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: clock.Now().Add(time.Hour)})
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte("0123456789abcdef0123456789abcdef")}
	svc, err := otp.NewService(otp.Deps{Store: codes, SMS: memory.NewSMSOutbox(), Limiter: memory.NewRateLimiter(), Clock: clock}, cfg)
	require.NoError(t, err)
	ps, err := otpprocess.NewService(otpprocess.Deps{Store: procs, OTP: svc, Tokens: tokens, Clock: clock},
		otpprocess.DefaultConfig())
	require.NoError(t, err)
	ctx := context.Background()
	run := func(phone string) {
		iss, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: phone})
		require.NoError(t, err)
		_, err = svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: phone, Code: iss.Code})
		require.NoError(t, err)
		_, err = ps.Create(ctx, otpprocess.CreateRequest{Token: "admin", OrgID: "org-a",
			Actor:   otpprocess.Actor{Name: "Ana", MSISDN: ports.ProcessPhone{CountryCode: "34", PhoneNumber: phone}},
			Channel: otpprocess.Channel{Type: otpprocess.ChannelSMS, External: true}})
		require.NoError(t, err)
	}

	require.False(t, codes.KeepsEvents())
	run("600111222")
	require.Zero(t, codes.events.Load(), "no code event is built for a store that drops it")
	require.Zero(t, procs.events.Load(), "no process event either")

	outbox := memory.NewOutbox()
	codes.PublishTo(outbox)
	procs.PublishTo(outbox)
	require.True(t, codes.KeepsEvents())
	require.True(t, procs.KeepsEvents())
	run("600111333")
	require.Equal(t, int64(2), codes.events.Load(), "code.issued and code.verified")
	require.Equal(t, int64(2), procs.events.Load(), "code.issued and the process's created")
	var types []string
	for _, ev := range outbox.Events() {
		types = append(types, ev.Type)
	}
	require.Equal(t, []string{otp.EventCodeIssued, otp.EventCodeVerified, otp.EventCodeIssued, otpprocess.EventCreated}, types)
}

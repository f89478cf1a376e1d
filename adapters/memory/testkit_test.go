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
	"github.com/verifykit/verifykit/ports"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := memory.NewClock(start)
	require.Equal(t, start, c.Now())
	require.Equal(t, start.Add(time.Hour), c.Advance(time.Hour))
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Advance(time.Second) }()
	}
	wg.Wait()
	require.Equal(t, start.Add(time.Hour+100*time.Second), c.Now(), "no advance is lost")
	c.Set(start)
	require.Equal(t, start, c.Now())
}

func TestTokens(t *testing.T) {
	tok := memory.NewTokens()
	scopes := []string{"a"}
	tok.Add("t1", ports.Claims{Subject: "s", Scopes: scopes})
	scopes[0] = "changed"
	c, err := tok.VerifyToken(context.Background(), "t1")
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, c.Scopes, "the table keeps its own copy")
	_, err = tok.VerifyToken(context.Background(), "nope")
	require.ErrorIs(t, err, memory.ErrUnknownToken)
	tok.Remove("t1")
	_, err = tok.VerifyToken(context.Background(), "t1")
	require.ErrorIs(t, err, memory.ErrUnknownToken)
}

func TestSMSOutbox(t *testing.T) {
	ctx := context.Background()
	o := memory.NewSMSOutbox()
	require.NoError(t, o.SendSMS(ctx, ports.Message{To: "+1", Body: "one", IdempotencyKey: "k1"}))
	require.NoError(t, o.SendSMS(ctx, ports.Message{To: "+2", Body: "two", IdempotencyKey: "k2"}))
	require.NoError(t, o.SendSMS(ctx, ports.Message{To: "+1", Body: "three", IdempotencyKey: "k3"}))
	last, ok := o.Last("+1")
	require.True(t, ok)
	require.Equal(t, "three", last.Body)
	_, ok = o.Last("+3")
	require.False(t, ok)

	// The same idempotency key is delivered once.
	require.NoError(t, o.SendSMS(ctx, ports.Message{To: "+1", Body: "three", IdempotencyKey: "k3"}))
	require.Len(t, o.Messages(), 3)
	require.Len(t, o.Attempts(), 4)

	o.FailNext(2, false)
	err := o.SendSMS(ctx, ports.Message{To: "+1"})
	require.ErrorIs(t, err, memory.ErrInjectedFailure)
	require.NotErrorIs(t, err, ports.ErrPermanent)
	require.Error(t, o.SendSMS(ctx, ports.Message{To: "+1"}))
	require.NoError(t, o.SendSMS(ctx, ports.Message{To: "+1", IdempotencyKey: "k4"}), "only the next two fail")

	o.FailNext(1, true)
	err = o.SendSMS(ctx, ports.Message{To: "+380931234585"})
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.NotContains(t, err.Error(), "+380931234585", "errors carry masked numbers only")

	o.Reset()
	require.Empty(t, o.Messages())
	require.Empty(t, o.Attempts())
}

func TestOTPStorePurgesOnWrite(t *testing.T) {
	ctx := context.Background()
	s := memory.NewOTPStore()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Many subjects, each written once, all expired long before the later writes: the
	// store must not keep them all.
	const n = 70_000
	live := ports.Verification{
		Code:      ports.OTPRecord{ID: "live", Purpose: "p", Subject: "live", State: ports.CodeActive, MaxAttempts: 1, CreatedAt: base, ExpiresAt: base.Add(time.Minute)},
		Failures:  []time.Time{base},
		KeepUntil: base.Add(2 * n * time.Second), // still matters after every later write
	}
	_, err := s.Update(ctx, "p", "live", func(v *ports.Verification) error { *v = live; return nil })
	require.NoError(t, err)
	for i := range n {
		created := base.Add(time.Duration(i) * time.Second)
		_, err := s.Update(ctx, "p", string(rune(i+0x100)), func(v *ports.Verification) error {
			v.Code = ports.OTPRecord{
				ID: "id", Purpose: "p", Subject: string(rune(i + 0x100)), State: ports.CodeActive,
				MaxAttempts: 1, CreatedAt: created, ExpiresAt: created.Add(time.Minute),
			}
			v.KeepUntil = v.Code.ExpiresAt
			return nil
		})
		require.NoError(t, err)
	}
	got, err := s.Get(ctx, "p", "live")
	require.NoError(t, err, "the purges on write keep what still matters")
	live.Version = 1 // written once
	require.Equal(t, live, got)
	// Purging everything expired reports how many were still stored.
	left, err := s.PurgeExpired(ctx, base.Add(n*time.Second+time.Hour), -1)
	require.NoError(t, err)
	require.Less(t, left, n/2, "expired codes were purged as the store was written")
	_, err = s.Get(ctx, "p", "live")
	require.NoError(t, err, "PurgeExpired keeps what still matters")
}

func TestMaskPhone(t *testing.T) {
	require.Equal(t, "+38093*****85", ports.MaskPhone("+380931234585"))
	require.Equal(t, "", ports.MaskPhone(""))
	require.Equal(t, "*****", ports.MaskPhone("12"), "not a phone number: masked whole")
	require.Equal(t, "*****", ports.MaskPhone("345678"))
	require.Equal(t, "+3460*****22", ports.MaskPhone("+34600111222"))
	require.Equal(t, "+12*****90", ports.MaskPhone("+123456790"))
	require.Equal(t, "*******78", ports.MaskPhone("+12345678"), "short numbers show no prefix")
	for _, p := range []string{"+12345678", "+123456790", "+34600111222", "+380931234585", "+4412345678901"} {
		require.GreaterOrEqual(t, strings.Count(ports.MaskPhone(p), "*"), 5, p)
	}
	require.Equal(t, "j***@e***.com", ports.MaskEmail("jane.doe@example.com"))
}

func TestOutboxesNameTheirChannel(t *testing.T) {
	ctx := context.Background()
	mail := memory.NewEmailOutbox()
	mail.FailNext(1, true)
	err := mail.SendEmail(ctx, ports.Message{To: "jane.doe@example.com"})
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.Contains(t, err.Error(), "e-mail to j***@e***.com")
	require.NoError(t, mail.SendEmail(ctx, ports.Message{To: "jane.doe@example.com", Body: "hi"}))
	got, ok := mail.Last("jane.doe@example.com")
	require.True(t, ok)
	require.Equal(t, "hi", got.Body)

	wa := memory.NewWhatsAppOutbox()
	wa.FailNext(1, false)
	require.ErrorContains(t, wa.SendWhatsApp(ctx, ports.Message{To: "+380931234585"}), "whatsapp to +38093*****85")
}

func TestRateLimiterUndoLeavesNoEmptyKeys(t *testing.T) {
	ctx := context.Background()
	l := memory.NewRateLimiter()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := ports.RateLimit{Max: 100, Per: 24 * time.Hour}
	for i := range 10_000 {
		key := fmt.Sprint("k", i)
		_, err := l.Allow(ctx, key, now, day)
		require.NoError(t, err)
		require.NoError(t, l.Undo(ctx, key, now))
	}
	require.Zero(t, l.Len(), "given-back reservations leave nothing behind")
}

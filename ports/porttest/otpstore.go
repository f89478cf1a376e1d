package porttest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

// base is the time every suite starts from.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func otpRecord(id, purpose, subject string, created time.Time) ports.OTPRecord {
	return ports.OTPRecord{
		ID: id, Purpose: purpose, Subject: subject,
		Hash:        []byte("hash-of-" + id),
		State:       ports.CodeActive,
		MaxAttempts: 3,
		CreatedAt:   created,
		ExpiresAt:   created.Add(10 * time.Minute),
	}
}

// matchHash matches records whose Hash is want.
func matchHash(want string) func(ports.OTPRecord) bool {
	return func(r ports.OTPRecord) bool { return string(r.Hash) == want }
}

// RunOTPStore runs the conformance suite of ports.OTPStore. newStore must return an empty
// store; it is called once per sub-test.
func RunOTPStore(t *testing.T, newStore func(t *testing.T) ports.OTPStore) {
	ctx := context.Background()

	t.Run("CreateSupersedesOlderOfSameSubjectOnly", func(t *testing.T) {
		s := newStore(t)
		n, err := s.CreateCode(ctx, otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base))
		require.NoError(t, err)
		require.Zero(t, n)
		_, err = s.CreateCode(ctx, otpRecord("00000000-0000-0000-0000-000000000002", "p", "b", base))
		require.NoError(t, err)
		_, err = s.CreateCode(ctx, otpRecord("00000000-0000-0000-0000-000000000003", "q", "a", base))
		require.NoError(t, err)
		n, err = s.CreateCode(ctx, otpRecord("00000000-0000-0000-0000-000000000004", "p", "a", base.Add(time.Second)))
		require.NoError(t, err)
		require.Equal(t, 1, n)

		codes, err := s.Codes(ctx, "p", "a")
		require.NoError(t, err)
		require.Len(t, codes, 2)
		require.Equal(t, ports.CodeSuperseded, codes[0].State)
		require.Equal(t, ports.CodeActive, codes[1].State)
		require.Equal(t, []byte("hash-of-00000000-0000-0000-0000-000000000004"), codes[1].Hash)
		for _, other := range [][2]string{{"p", "b"}, {"q", "a"}} {
			codes, err := s.Codes(ctx, other[0], other[1])
			require.NoError(t, err)
			require.Len(t, codes, 1)
			require.Equal(t, ports.CodeActive, codes[0].State, "another subject or purpose is untouched")
		}
	})

	t.Run("RecordRoundTrips", func(t *testing.T) {
		s := newStore(t)
		rec := otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base)
		rec.KeyID = 2
		rec.MaxAttempts = 7
		_, err := s.CreateCode(ctx, rec)
		require.NoError(t, err)
		codes, err := s.Codes(ctx, "p", "a")
		require.NoError(t, err)
		require.Len(t, codes, 1)
		got := codes[0]
		require.Equal(t, rec.ID, got.ID)
		require.Equal(t, rec.Hash, got.Hash)
		require.Equal(t, 2, got.KeyID)
		require.Equal(t, 7, got.MaxAttempts)
		require.True(t, rec.CreatedAt.Equal(got.CreatedAt))
		require.True(t, rec.ExpiresAt.Equal(got.ExpiresAt))
		require.True(t, got.UsedAt.IsZero())
	})

	t.Run("VerifyNoCode", func(t *testing.T) {
		s := newStore(t)
		_, _, err := s.VerifyLatest(ctx, "p", "nobody", base, matchHash("x"))
		require.ErrorIs(t, err, ports.ErrNoCode)
	})

	t.Run("VerifyConsumesOnce", func(t *testing.T) {
		s := newStore(t)
		rec := otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base)
		_, err := s.CreateCode(ctx, rec)
		require.NoError(t, err)
		got, out, err := s.VerifyLatest(ctx, "p", "a", base.Add(time.Minute), matchHash(string(rec.Hash)))
		require.NoError(t, err)
		require.Equal(t, ports.OutcomeVerified, out)
		require.Equal(t, ports.CodeVerified, got.State)
		require.True(t, got.UsedAt.Equal(base.Add(time.Minute)))
		got, out, err = s.VerifyLatest(ctx, "p", "a", base.Add(2*time.Minute), matchHash(string(rec.Hash)))
		require.NoError(t, err)
		require.Equal(t, ports.OutcomeNotActive, out)
		require.Equal(t, ports.CodeVerified, got.State)
	})

	t.Run("OnlyLatestIsChecked", func(t *testing.T) {
		s := newStore(t)
		old := otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base)
		_, err := s.CreateCode(ctx, old)
		require.NoError(t, err)
		_, err = s.CreateCode(ctx, otpRecord("00000000-0000-0000-0000-000000000002", "p", "a", base.Add(time.Second)))
		require.NoError(t, err)
		got, out, err := s.VerifyLatest(ctx, "p", "a", base.Add(time.Minute), matchHash(string(old.Hash)))
		require.NoError(t, err)
		require.Equal(t, ports.OutcomeMismatch, out, "the old code must not match")
		require.Equal(t, "00000000-0000-0000-0000-000000000002", got.ID)
		require.Equal(t, 1, got.Attempts)
	})

	t.Run("ExpiryBoundary", func(t *testing.T) {
		s := newStore(t)
		rec := otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base)
		_, err := s.CreateCode(ctx, rec)
		require.NoError(t, err)
		called := false
		got, out, err := s.VerifyLatest(ctx, "p", "a", rec.ExpiresAt, func(ports.OTPRecord) bool { called = true; return true })
		require.NoError(t, err)
		require.False(t, called, "an expired code is never compared")
		require.Equal(t, ports.OutcomeNotActive, out)
		require.Equal(t, ports.CodeExpired, got.State)

		s2 := newStore(t)
		_, err = s2.CreateCode(ctx, rec)
		require.NoError(t, err)
		_, out, err = s2.VerifyLatest(ctx, "p", "a", rec.ExpiresAt.Add(-time.Nanosecond), matchHash(string(rec.Hash)))
		require.NoError(t, err)
		require.Equal(t, ports.OutcomeVerified, out, "one instant before expiry the code is valid")
	})

	t.Run("AttemptsBlock", func(t *testing.T) {
		s := newStore(t)
		rec := otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base)
		_, err := s.CreateCode(ctx, rec)
		require.NoError(t, err)
		for i := 1; i <= 3; i++ {
			got, out, err := s.VerifyLatest(ctx, "p", "a", base, matchHash("wrong"))
			require.NoError(t, err)
			require.Equal(t, ports.OutcomeMismatch, out)
			require.Equal(t, i, got.Attempts)
		}
		codes, err := s.Codes(ctx, "p", "a")
		require.NoError(t, err)
		require.Equal(t, ports.CodeBlocked, codes[0].State)
		_, out, err := s.VerifyLatest(ctx, "p", "a", base, matchHash(string(rec.Hash)))
		require.NoError(t, err)
		require.Equal(t, ports.OutcomeNotActive, out, "after the limit even the right code fails")
	})

	t.Run("InvalidateAndUndeliverable", func(t *testing.T) {
		s := newStore(t)
		_, err := s.CreateCode(ctx, otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base))
		require.NoError(t, err)
		n, err := s.Invalidate(ctx, "p", "a")
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = s.Invalidate(ctx, "p", "a")
		require.NoError(t, err)
		require.Zero(t, n)

		rec := otpRecord("00000000-0000-0000-0000-000000000002", "p", "a", base.Add(time.Second))
		_, err = s.CreateCode(ctx, rec)
		require.NoError(t, err)
		require.NoError(t, s.MarkUndeliverable(ctx, "p", "a", rec.ID))
		require.ErrorIs(t, s.MarkUndeliverable(ctx, "p", "a", "00000000-0000-0000-0000-0000000000ff"), ports.ErrNoCode)
		_, out, err := s.VerifyLatest(ctx, "p", "a", base.Add(time.Minute), matchHash(string(rec.Hash)))
		require.NoError(t, err)
		require.Equal(t, ports.OutcomeNotActive, out)
		codes, err := s.Codes(ctx, "p", "a")
		require.NoError(t, err)
		require.Equal(t, ports.CodeSuperseded, codes[0].State)
		require.Equal(t, ports.CodeUndeliverable, codes[1].State)
	})

	t.Run("PurgeExpired", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			rec := otpRecord(fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "p", fmt.Sprint("s", i), base.Add(time.Duration(i)*time.Minute))
			_, err := s.CreateCode(ctx, rec)
			require.NoError(t, err)
		}
		// Codes 0..2 expire at base+10m, +11m, +12m.
		n, err := s.PurgeExpired(ctx, base.Add(12*time.Minute), 2)
		require.NoError(t, err)
		require.Equal(t, 2, n, "a batch is bounded")
		n, err = s.PurgeExpired(ctx, base.Add(12*time.Minute), 100)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		left := 0
		for i := range 5 {
			codes, err := s.Codes(ctx, "p", fmt.Sprint("s", i))
			require.NoError(t, err)
			left += len(codes)
		}
		require.Equal(t, 2, left)
	})

	t.Run("ConcurrentRightCodeSucceedsOnce", func(t *testing.T) {
		s := newStore(t)
		rec := otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base)
		_, err := s.CreateCode(ctx, rec)
		require.NoError(t, err)
		var wins, errs atomic.Int32
		parallel(100, func(int) {
			_, out, err := s.VerifyLatest(ctx, "p", "a", base.Add(time.Second), matchHash(string(rec.Hash)))
			if err != nil {
				errs.Add(1)
			} else if out == ports.OutcomeVerified {
				wins.Add(1)
			}
		})
		require.Zero(t, errs.Load())
		require.EqualValues(t, 1, wins.Load(), "a code is consumed at most once")
	})

	t.Run("ConcurrentWrongCodesNeverPassLimit", func(t *testing.T) {
		s := newStore(t)
		rec := otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base)
		rec.MaxAttempts = 5
		_, err := s.CreateCode(ctx, rec)
		require.NoError(t, err)
		var mismatches atomic.Int32
		parallel(50, func(int) {
			_, out, err := s.VerifyLatest(ctx, "p", "a", base.Add(time.Second), matchHash("wrong"))
			if err == nil && out == ports.OutcomeMismatch {
				mismatches.Add(1)
			}
		})
		require.EqualValues(t, 5, mismatches.Load(), "only MaxAttempts wrong attempts are counted")
		codes, err := s.Codes(ctx, "p", "a")
		require.NoError(t, err)
		require.Equal(t, 5, codes[0].Attempts)
		require.Equal(t, ports.CodeBlocked, codes[0].State)
		_, out, err := s.VerifyLatest(ctx, "p", "a", base.Add(time.Second), matchHash(string(rec.Hash)))
		require.NoError(t, err)
		require.Equal(t, ports.OutcomeNotActive, out)
	})

	t.Run("ConcurrentCreateLeavesOneActive", func(t *testing.T) {
		s := newStore(t)
		parallel(20, func(i int) {
			_, _ = s.CreateCode(ctx, otpRecord(fmt.Sprintf("00000000-0000-0000-0000-%012d", i), "p", "a", base))
		})
		codes, err := s.Codes(ctx, "p", "a")
		require.NoError(t, err)
		require.Len(t, codes, 20)
		active := 0
		for _, c := range codes {
			if c.State == ports.CodeActive {
				active++
			}
		}
		require.Equal(t, 1, active)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.CreateCode(cctx, otpRecord("00000000-0000-0000-0000-000000000001", "p", "a", base))
		require.Error(t, err)
		codes, err := s.Codes(ctx, "p", "a")
		require.NoError(t, err)
		require.Empty(t, codes, "a cancelled create leaves nothing behind")
	})
}

// parallel runs f(0..n-1) on n goroutines released at once, and waits for them.
func parallel(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			f(i)
		}()
	}
	start.Done()
	done.Wait()
}

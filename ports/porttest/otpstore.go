package porttest

import (
	"context"
	"errors"
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

// sampleVerification returns a Verification with every field set: an active code id of the
// purpose and subject created at created, two failures, and KeepUntil.
func sampleVerification(id, purpose, subject string, created time.Time) ports.Verification {
	return ports.Verification{
		Code: ports.OTPRecord{
			ID: id, Purpose: purpose, Subject: subject,
			Hash:        []byte("hash-of-" + id),
			KeyID:       7,
			State:       ports.CodeActive,
			Attempts:    1,
			MaxAttempts: 3,
			CreatedAt:   created,
			ExpiresAt:   created.Add(10 * time.Minute),
		},
		Failures:  []time.Time{created.Add(-time.Hour), created.Add(-time.Minute)},
		KeepUntil: created.Add(23 * time.Hour),
	}
}

// requireSameVerification fails unless got holds what want holds, times compared with Equal.
func requireSameVerification(t *testing.T, want, got ports.Verification, msgAndArgs ...any) {
	t.Helper()
	for _, p := range [][2]time.Time{
		{want.Code.CreatedAt, got.Code.CreatedAt}, {want.Code.ExpiresAt, got.Code.ExpiresAt},
		{want.Code.UsedAt, got.Code.UsedAt}, {want.KeepUntil, got.KeepUntil},
	} {
		require.True(t, p[0].Equal(p[1]), "time %v != %v %v", p[0], p[1], msgAndArgs)
		require.Equal(t, p[0].IsZero(), p[1].IsZero(), "a zero time stays zero %v", msgAndArgs)
	}
	require.Equal(t, len(want.Failures), len(got.Failures), msgAndArgs...)
	require.Equal(t, want.Failures == nil, got.Failures == nil, "nil and empty Failures stay apart %v", msgAndArgs)
	for i := range want.Failures {
		require.True(t, want.Failures[i].Equal(got.Failures[i]), "failure %d: %v != %v %v", i, want.Failures[i], got.Failures[i], msgAndArgs)
	}
	want.Code.CreatedAt, want.Code.ExpiresAt, want.Code.UsedAt, want.KeepUntil, want.Failures = got.Code.CreatedAt, got.Code.ExpiresAt, got.Code.UsedAt, got.KeepUntil, got.Failures
	require.Equal(t, want, got, msgAndArgs...)
}

// RunOTPStore runs the conformance suite of ports.OTPStore. newStore must return an empty
// store; it is called once per sub-test.
func RunOTPStore(t *testing.T, newStore func(t *testing.T) ports.OTPStore) {
	ctx := context.Background()
	set := func(t *testing.T, s ports.OTPStore, v ports.Verification) {
		t.Helper()
		got, err := s.Update(ctx, v.Code.Purpose, v.Code.Subject, func(cur *ports.Verification) error {
			*cur = v.Clone()
			return nil
		})
		require.NoError(t, err)
		requireSameVerification(t, v, got, "Update returns what it stored")
	}

	t.Run("NothingStoredIsErrNoCodeAndAZeroVerification", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Get(ctx, "p", "s")
		require.ErrorIs(t, err, ports.ErrNoCode)
		called := false
		_, err = s.Update(ctx, "p", "s", func(v *ports.Verification) error {
			called = true
			require.True(t, v.IsZero(), "fn gets a zero Verification")
			require.Empty(t, v.Code.State)
			return errNothing
		})
		require.ErrorIs(t, err, errNothing)
		require.True(t, called)
		_, err = s.Get(ctx, "p", "s")
		require.ErrorIs(t, err, ports.ErrNoCode, "an Update whose fn failed stores nothing, not even an empty record")
	})

	t.Run("EveryFieldRoundTrips", func(t *testing.T) {
		s := newStore(t)
		v := sampleVerification("c1", "p", "s", base.Add(123456*time.Microsecond))
		v.Code.State, v.Code.UsedAt = ports.CodeVerified, base.Add(time.Minute)
		set(t, s, v)
		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		requireSameVerification(t, v, got)

		empty := ports.Verification{Code: ports.OTPRecord{ID: "c2", Purpose: "p", Subject: "s2", Hash: []byte{}, State: ports.CodeActive}, Failures: []time.Time{}}
		set(t, s, empty)
		got, err = s.Get(ctx, "p", "s2")
		require.NoError(t, err)
		requireSameVerification(t, empty, got, "empty slices and zero times")
	})

	t.Run("FailedUpdateWritesNothing", func(t *testing.T) {
		s := newStore(t)
		v := sampleVerification("c1", "p", "s", base)
		set(t, s, v)
		boom := errors.New("boom")
		_, err := s.Update(ctx, "p", "s", func(cur *ports.Verification) error {
			cur.Code.State, cur.Code.Attempts = ports.CodeBlocked, 3
			cur.Failures = append(cur.Failures, base)
			cur.KeepUntil = base.Add(48 * time.Hour)
			return boom
		})
		require.True(t, errors.Is(err, boom) && err == boom, "fn's error comes back as is: %v", err)
		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		requireSameVerification(t, v, got, "exactly as before")
	})

	t.Run("ValuesAreCopiedInAndOut", func(t *testing.T) {
		s := newStore(t)
		v := sampleVerification("c1", "p", "s", base)
		var kept *ports.Verification
		_, err := s.Update(ctx, "p", "s", func(cur *ports.Verification) error {
			*cur = v
			kept = cur
			return nil
		})
		require.NoError(t, err)
		v.Code.Hash[0], v.Failures[0] = 'X', base.Add(time.Hour) // the caller's slices
		kept.Code.Hash[1], kept.Failures[1] = 'Y', base.Add(2*time.Hour)
		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		want := sampleVerification("c1", "p", "s", base)
		requireSameVerification(t, want, got, "what was passed in is not shared")
		got.Code.Hash[2], got.Failures[0] = 'Z', base
		again, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		requireSameVerification(t, want, again, "what came out is not shared")
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		s := newStore(t)
		for _, k := range [][2]string{{"p", "s"}, {"p", "t"}, {"q", "s"}, {"p\x00s", ""}, {"p", "\x00s"}} {
			set(t, s, sampleVerification("c-"+k[0]+"-"+k[1], k[0], k[1], base))
		}
		for _, k := range [][2]string{{"p", "s"}, {"p", "t"}, {"q", "s"}, {"p\x00s", ""}, {"p", "\x00s"}} {
			got, err := s.Get(ctx, k[0], k[1])
			require.NoError(t, err)
			require.Equal(t, "c-"+k[0]+"-"+k[1], got.Code.ID, "key %q", k)
		}
	})

	t.Run("UpdatesOfOneKeyAreSerialised", func(t *testing.T) {
		s := newStore(t)
		set(t, s, sampleVerification("c1", "p", "s", base))
		const n = 100
		errs := make([]error, n)
		parallel(n, func(i int) {
			_, errs[i] = s.Update(ctx, "p", "s", func(v *ports.Verification) error {
				v.Code.Attempts++
				v.Failures = append(v.Failures, base.Add(time.Duration(i+1)*time.Second))
				return nil
			})
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		require.Equal(t, 1+n, got.Code.Attempts, "no increment is lost")
		require.Len(t, got.Failures, 2+n)
	})

	t.Run("ConcurrentConsumeSucceedsOnce", func(t *testing.T) {
		s := newStore(t)
		set(t, s, sampleVerification("c1", "p", "s", base))
		wins := updateOnce(t, 100, func(int) error {
			_, err := s.Update(ctx, "p", "s", func(v *ports.Verification) error {
				if v.Code.State != ports.CodeActive {
					return errNothing
				}
				v.Code.State, v.Code.UsedAt = ports.CodeVerified, base
				return nil
			})
			return err
		})
		require.Equal(t, 1, wins)
	})

	t.Run("ConcurrentFirstWritesOfOneKey", func(t *testing.T) {
		s := newStore(t)
		wins := updateOnce(t, 50, func(i int) error {
			_, err := s.Update(ctx, "p", "new", func(v *ports.Verification) error {
				if !v.IsZero() {
					return errNothing
				}
				*v = sampleVerification(fmt.Sprintf("c%d", i), "p", "new", base)
				return nil
			})
			return err
		})
		require.Equal(t, 1, wins, "exactly one Update saw nothing stored")
	})

	t.Run("PurgeExpiredDeletesPastKeepUntil", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			v := sampleVerification(fmt.Sprintf("c%d", i), "p", fmt.Sprintf("s%d", i), base)
			v.KeepUntil = base.Add(time.Duration(i) * time.Hour)
			set(t, s, v)
		}
		n, err := s.PurgeExpired(ctx, base.Add(time.Hour), 1)
		require.NoError(t, err)
		require.Equal(t, 1, n, "a batch is bounded")
		n, err = s.PurgeExpired(ctx, base.Add(time.Hour), 10)
		require.NoError(t, err)
		require.Equal(t, 1, n, "KeepUntil at before is purged; later ones are not")
		n, err = s.PurgeExpired(ctx, base.Add(time.Hour), 10)
		require.NoError(t, err)
		require.Zero(t, n)
		for i := range 5 {
			_, err := s.Get(ctx, "p", fmt.Sprintf("s%d", i))
			if i <= 1 {
				require.ErrorIs(t, err, ports.ErrNoCode, "s%d purged", i)
			} else {
				require.NoError(t, err, "s%d kept", i)
			}
		}
		n, err = s.PurgeExpired(ctx, base.Add(10*time.Hour), -1)
		require.NoError(t, err)
		require.Equal(t, 3, n, "a negative limit purges them all")
	})

	t.Run("DoneContextWritesNothing", func(t *testing.T) {
		s := newStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := s.Update(cctx, "p", "s", func(v *ports.Verification) error {
			*v = sampleVerification("c1", "p", "s", base)
			return nil
		})
		require.Error(t, err)
		_, err = s.Get(ctx, "p", "s")
		require.ErrorIs(t, err, ports.ErrNoCode)
	})
}

// updateOnce runs try(0..n-1) concurrently (see parallel) and returns how many succeeded;
// every other try must have failed with errNothing.
func updateOnce(t *testing.T, n int, try func(i int) error) int {
	t.Helper()
	var wins, others atomic.Int32
	parallel(n, func(i int) {
		switch err := try(i); {
		case err == nil:
			wins.Add(1)
		case !errors.Is(err, errNothing):
			others.Add(1)
		}
	})
	require.Zero(t, others.Load(), "no error but errNothing")
	return int(wins.Load())
}

// errNothing makes an Update of the suites write nothing.
var errNothing = errors.New("porttest: nothing to write")

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

package porttest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

// base is the time the record suites start from.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// otpBase is the time the OTPStore suite starts from, with a microsecond fraction. It lies
// far in the future, and every Verification the suite expects to find again keeps its
// KeepUntil after every other time it holds: ports.OTPStore lets a store purge on its own,
// and such a store must not delete one early, whether it goes by the wall clock or by the
// times it was given.
var otpBase = time.Date(2226, 3, 1, 12, 0, 0, 123456000, time.UTC)

// sampleVerification returns a Verification with every field set: an active code id of the
// purpose and subject created at created with one wrong attempt, two failures before
// created, and KeepUntil after all of them.
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

// normVerification is v as requireSameVerification compares it: times in UTC, and empty
// slices nil (the ports promise neither a location nor nil against empty).
func normVerification(v ports.Verification) ports.Verification {
	v = v.Clone()
	for _, tm := range []*time.Time{&v.Code.CreatedAt, &v.Code.ExpiresAt, &v.Code.UsedAt, &v.KeepUntil} {
		*tm = normTime(*tm)
	}
	for i := range v.Failures {
		v.Failures[i] = normTime(v.Failures[i])
	}
	if len(v.Code.Hash) == 0 {
		v.Code.Hash = nil
	}
	if len(v.Failures) == 0 {
		v.Failures = nil
	}
	return v
}

// normTime is t in UTC, or the zero time.
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}

// requireSameVerification fails unless got holds what want holds, field by field, times
// compared as instants; what names the value in the failure message.
func requireSameVerification(t *testing.T, what string, want, got ports.Verification) {
	t.Helper()
	require.Equal(t, normVerification(want), normVerification(got), what)
}

// RunOTPStore runs the conformance suite of ports.OTPStore. newStore must return an empty
// store; it is called once per sub-test.
func RunOTPStore(t *testing.T, newStore func(t *testing.T) ports.OTPStore) {
	t.Run("Errors", func(t *testing.T) { runErrorCases(t, otpStoreErrorCases(newStore(t))) })
	ctx := context.Background()
	// set stores v under its code's purpose and subject, checking what Update returns.
	set := func(t *testing.T, s ports.OTPStore, v ports.Verification) {
		t.Helper()
		got, err := s.Update(ctx, v.Code.Purpose, v.Code.Subject, func(cur *ports.Verification) error {
			*cur = v.Clone()
			return nil
		})
		require.NoError(t, err)
		requireSameVerification(t, "Update returns what it stored", v, got)
	}
	// requireStored fails unless Get returns want for the purpose and subject.
	requireStored := func(t *testing.T, s ports.OTPStore, purpose, subject string, want ports.Verification, what string) {
		t.Helper()
		got, err := s.Get(ctx, purpose, subject)
		require.NoError(t, err, what)
		requireSameVerification(t, what, want, got)
	}
	sample := func(subject string) ports.Verification {
		return sampleVerification("c-"+subject, "p", subject, otpBase)
	}

	t.Run("NothingStoredIsErrNoCodeAndAZeroVerification", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Get(ctx, "p", "s")
		require.ErrorIs(t, err, ports.ErrNoCode)
		calls := 0
		var seen ports.Verification
		_, err = s.Update(ctx, "p", "s", func(v *ports.Verification) error {
			calls++
			seen = v.Clone()
			return errNothing
		})
		require.Same(t, errNothing, err, "fn's error comes back as is")
		require.NotZero(t, calls, "fn is called when nothing is stored")
		requireSameVerification(t, "fn gets a zero Verification", ports.Verification{}, seen)
		_, err = s.Get(ctx, "p", "s")
		require.ErrorIs(t, err, ports.ErrNoCode, "an Update whose fn failed stores nothing, not even an empty Verification")
	})

	t.Run("EveryFieldRoundTrips", func(t *testing.T) {
		inZone := sample("s")
		zone := time.FixedZone("UTC+05:30", 5*3600+1800)
		inZone.Code.CreatedAt, inZone.Code.ExpiresAt = inZone.Code.CreatedAt.In(zone), inZone.Code.ExpiresAt.In(zone)
		inZone.KeepUntil = inZone.KeepUntil.In(zone)
		for i := range inZone.Failures {
			inZone.Failures[i] = inZone.Failures[i].In(zone)
		}
		verified := sample("s")
		verified.Code.State, verified.Code.Attempts, verified.Code.UsedAt = ports.CodeVerified, 2, otpBase.Add(time.Minute+time.Microsecond)
		blocked := sample("s")
		blocked.Code.State, blocked.Code.Attempts = ports.CodeBlocked, 3
		blocked.Failures = append(blocked.Failures, otpBase.Add(time.Second))
		for _, c := range []struct {
			name string
			v    ports.Verification
		}{
			{"ActiveCodeWithFailures", sample("s")},
			{"VerifiedCode", verified},
			{"BlockedCode", blocked},
			{"TimesInAnotherLocation", inZone},
			{"FailuresWithoutACode", ports.Verification{
				Code:      ports.OTPRecord{Purpose: "p", Subject: "s"},
				Failures:  []time.Time{otpBase.Add(-time.Second), otpBase},
				KeepUntil: otpBase.Add(time.Hour),
			}},
			{"EmptySlicesAndZeroTimes", ports.Verification{
				Code:      ports.OTPRecord{ID: "c-s", Purpose: "p", Subject: "s", Hash: []byte{}, State: ports.CodeUndeliverable},
				Failures:  []time.Time{},
				KeepUntil: otpBase,
			}},
			{"BinaryHashAndOddKey", func() ports.Verification {
				v := sampleVerification("c\x00é", "p\x00q", "s\x00\xff", otpBase)
				v.Code.Hash = []byte{0, 0xff, 0x80, 0, '\\', '"'}
				return v
			}()},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := newStore(t)
				set(t, s, c.v)
				requireStored(t, s, c.v.Code.Purpose, c.v.Code.Subject, c.v, "Get returns what was stored")
			})
		}
	})

	t.Run("FailedUpdateWritesNothing", func(t *testing.T) {
		s := newStore(t)
		before := sample("s")
		set(t, s, before)
		boom := errors.New("boom")
		_, err := s.Update(ctx, "p", "s", func(cur *ports.Verification) error {
			// Every field changed, the slices in place too, before the failure.
			cur.Code.ID, cur.Code.State, cur.Code.Attempts = "c-other", ports.CodeBlocked, 3
			cur.Code.Hash[0], cur.Failures[0] = 'X', otpBase
			cur.Code.UsedAt, cur.Code.ExpiresAt = otpBase, otpBase
			cur.Failures = append(cur.Failures, otpBase.Add(time.Second))
			cur.KeepUntil = otpBase.Add(48 * time.Hour)
			return boom
		})
		require.Same(t, boom, err, "fn's error comes back as is, not wrapped")
		requireStored(t, s, "p", "s", before, "the Verification is exactly as before")
	})

	t.Run("ValuesAreCopiedInAndOut", func(t *testing.T) {
		s := newStore(t)
		want := sample("s")
		in := sample("s")
		var kept *ports.Verification
		ret, err := s.Update(ctx, "p", "s", func(cur *ports.Verification) error {
			*cur = in // shares in's slices
			kept = cur
			return nil
		})
		require.NoError(t, err)
		in.Code.Hash[0], in.Failures[0] = 'X', otpBase.Add(time.Hour) // what was passed in
		kept.Code.Hash[1], kept.Failures[1] = 'Y', otpBase.Add(2*time.Hour)
		ret.Code.Hash[2] = 'Z' // what Update returned
		ret.Failures = append(ret.Failures[:1], otpBase.Add(3*time.Hour))
		requireStored(t, s, "p", "s", want, "what was passed in or returned by Update is not shared")

		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		got.Code.Hash[3], got.Failures[0] = 'W', otpBase
		requireStored(t, s, "p", "s", want, "what Get returned is not shared")

		_, err = s.Update(ctx, "p", "s", func(cur *ports.Verification) error {
			kept = cur
			return nil
		})
		require.NoError(t, err)
		kept.Code.Hash[4], kept.Failures[1] = 'V', otpBase
		requireStored(t, s, "p", "s", want, "fn's argument is not shared after Update returned")
	})

	t.Run("PurposesAndSubjectsAreIndependent", func(t *testing.T) {
		s := newStore(t)
		// Keys that a naive "purpose + separator + subject" encoding would confuse.
		keys := [][2]string{{"p", "s"}, {"p", "t"}, {"q", "s"}, {"p\x00s", ""}, {"p", "\x00s"}, {"p\x00", "s"}, {"", "p\x00s"}, {"P", "s"}}
		want := make([]ports.Verification, len(keys))
		for i, k := range keys {
			want[i] = sampleVerification(fmt.Sprintf("c%d", i), k[0], k[1], otpBase)
			set(t, s, want[i])
		}
		requireAll := func(what string) {
			t.Helper()
			for i, k := range keys {
				requireStored(t, s, k[0], k[1], want[i], fmt.Sprintf("%s: key %q", what, k))
			}
		}
		requireAll("each key keeps its own Verification")

		_, err := s.Update(ctx, "p", "s", func(v *ports.Verification) error {
			v.Code.State, v.Code.UsedAt = ports.CodeVerified, otpBase
			return nil
		})
		require.NoError(t, err)
		want[0].Code.State, want[0].Code.UsedAt = ports.CodeVerified, otpBase
		_, err = s.Get(ctx, "p", "u")
		require.ErrorIs(t, err, ports.ErrNoCode, "another subject of the same purpose")
		_, err = s.Get(ctx, "r", "s")
		require.ErrorIs(t, err, ports.ErrNoCode, "another purpose of the same subject")
		requireAll("an Update of one key changes no other")

		// Concurrent Updates of different keys neither lose nor mix increments.
		const perKey = 10
		errs := make([]error, perKey*len(keys))
		parallel(len(errs), func(i int) {
			k := keys[i%len(keys)]
			_, errs[i] = s.Update(ctx, k[0], k[1], func(v *ports.Verification) error {
				v.Code.Attempts++
				return nil
			})
		})
		for i, err := range errs {
			require.NoError(t, err, "update %d", i)
		}
		for i := range want {
			want[i].Code.Attempts += perKey
		}
		requireAll("concurrent Updates of different keys")
	})

	t.Run("ConcurrentUpdatesAreSerialised", func(t *testing.T) {
		s := newStore(t)
		const n = 100
		errs := make([]error, n)
		// Starting from nothing: the first writes of a key are serialised too.
		parallel(n, func(i int) {
			_, errs[i] = s.Update(ctx, "p", "s", func(v *ports.Verification) error {
				if v.Code.ID == "" {
					v.Code = ports.OTPRecord{
						ID: "c1", Purpose: "p", Subject: "s", Hash: []byte("h"), State: ports.CodeActive,
						MaxAttempts: 2 * n, CreatedAt: otpBase, ExpiresAt: otpBase.Add(time.Hour),
					}
					v.KeepUntil = otpBase.Add(48 * time.Hour)
				}
				n := v.Code.Attempts
				runtime.Gosched() // widen the window a store that does not serialise would lose an increment in
				v.Code.Attempts = n + 1
				failed := otpBase.Add(time.Duration(i) * time.Second)
				at, _ := slices.BinarySearchFunc(v.Failures, failed, time.Time.Compare)
				v.Failures = slices.Insert(v.Failures, at, failed)
				return nil
			})
		})
		for i, err := range errs {
			require.NoError(t, err, "update %d", i)
		}
		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		require.Equal(t, n, got.Code.Attempts, "no increment is lost")
		require.Len(t, got.Failures, n, "no failure is lost")
		for i, f := range got.Failures {
			require.True(t, otpBase.Add(time.Duration(i)*time.Second).Equal(f), "failure %d", i)
		}
	})

	t.Run("ConcurrentConsumeSucceedsOnce", func(t *testing.T) {
		s := newStore(t)
		set(t, s, sample("s"))
		const n = 100
		var wins, losses, others atomic.Int32
		parallel(n, func(i int) {
			got, err := s.Update(ctx, "p", "s", func(v *ports.Verification) error {
				if v.Code.State != ports.CodeActive {
					return errNothing
				}
				runtime.Gosched()
				v.Code.State, v.Code.UsedAt = ports.CodeVerified, otpBase.Add(time.Duration(i)*time.Second)
				return nil
			})
			switch {
			case err == nil && got.Code.State == ports.CodeVerified:
				wins.Add(1)
			case err == errNothing:
				losses.Add(1)
			default:
				others.Add(1)
			}
		})
		require.EqualValues(t, 1, wins.Load(), "exactly one consume succeeds")
		require.EqualValues(t, n-1, losses.Load(), "every other one sees the code used")
		require.Zero(t, others.Load(), "no other outcome")
		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		require.Equal(t, ports.CodeVerified, got.Code.State)
		require.False(t, got.Code.UsedAt.IsZero())
	})

	t.Run("ConcurrentFirstWritesOfOneKey", func(t *testing.T) {
		s := newStore(t)
		const n = 100
		var wins, losses, others atomic.Int32
		var winner atomic.Value
		parallel(n, func(i int) {
			_, err := s.Update(ctx, "p", "s", func(v *ports.Verification) error {
				if !v.IsZero() {
					return errNothing
				}
				runtime.Gosched()
				*v = sampleVerification(fmt.Sprintf("c%d", i), "p", "s", otpBase)
				return nil
			})
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(fmt.Sprintf("c%d", i))
			case err == errNothing:
				losses.Add(1)
			default:
				others.Add(1)
			}
		})
		require.EqualValues(t, 1, wins.Load(), "exactly one Update saw nothing stored")
		require.EqualValues(t, n-1, losses.Load())
		require.Zero(t, others.Load(), "no other outcome")
		got, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		require.Equal(t, winner.Load(), got.Code.ID, "the winner's Verification is stored")
	})

	t.Run("PurgeExpiredDeletesAtOrBeforeKeepUntil", func(t *testing.T) {
		s := newStore(t)
		// s0..s4 keep until otpBase + 0h..4h; every other time they hold is before that.
		want := make([]ports.Verification, 5)
		for i := range want {
			want[i] = sampleVerification(fmt.Sprintf("c%d", i), "p", fmt.Sprintf("s%d", i), otpBase.Add(-24*time.Hour))
			want[i].KeepUntil = otpBase.Add(time.Duration(i) * time.Hour)
			set(t, s, want[i])
		}
		for _, step := range []struct {
			name    string
			before  time.Time
			limit   int
			deleted int
			left    []int // the subjects still stored afterwards
		}{
			{"ALimitOfZeroDeletesNothing", otpBase.Add(time.Hour), 0, 0, []int{0, 1, 2, 3, 4}},
			{"ABatchIsBounded", otpBase.Add(time.Hour), 1, 1, nil},
			{"KeepUntilAtBeforeIsDeletedLaterIsNot", otpBase.Add(time.Hour), 10, 1, []int{2, 3, 4}},
			{"NothingLeftToDelete", otpBase.Add(time.Hour), 10, 0, []int{2, 3, 4}},
			{"ANegativeLimitDeletesAll", otpBase.Add(3*time.Hour + time.Minute), -1, 2, []int{4}},
			{"TheLast", otpBase.Add(4 * time.Hour), -1, 1, []int{}},
		} {
			n, err := s.PurgeExpired(ctx, step.before, step.limit)
			require.NoError(t, err, step.name)
			require.Equal(t, step.deleted, n, "%s: the count deleted", step.name)
			if step.left == nil {
				continue // which one of a tie went is the store's choice
			}
			for i := range want {
				_, err := s.Get(ctx, "p", fmt.Sprintf("s%d", i))
				if slices.Contains(step.left, i) {
					require.NoError(t, err, "%s: s%d is kept", step.name, i)
					requireStored(t, s, "p", fmt.Sprintf("s%d", i), want[i], step.name+": a kept Verification is unchanged")
				} else {
					require.ErrorIs(t, err, ports.ErrNoCode, "%s: s%d is deleted", step.name, i)
				}
			}
		}
		var seen ports.Verification
		_, err := s.Update(ctx, "p", "s0", func(v *ports.Verification) error { seen = v.Clone(); return errNothing })
		require.Same(t, errNothing, err)
		requireSameVerification(t, "a purged key reads as nothing stored", ports.Verification{}, seen)
	})

	t.Run("PurgeExpiredBatchesAreBounded", func(t *testing.T) {
		s := newStore(t)
		const expired, kept = 100, 3
		for i := range expired + kept {
			v := sampleVerification(fmt.Sprintf("c%d", i), "p", fmt.Sprintf("s%d", i), otpBase.Add(-24*time.Hour))
			v.KeepUntil = otpBase.Add(time.Duration(i+1-expired) * time.Second) // s0..s99 at or before otpBase
			set(t, s, v)
		}
		for _, step := range []struct{ limit, deleted int }{{0, 0}, {30, 30}, {1, 1}, {30, 30}, {-1, expired - 61}, {-1, 0}, {10, 0}} {
			n, err := s.PurgeExpired(ctx, otpBase, step.limit)
			require.NoError(t, err)
			require.Equal(t, step.deleted, n, "PurgeExpired(limit %d)", step.limit)
		}
		for i := range expired + kept {
			_, err := s.Get(ctx, "p", fmt.Sprintf("s%d", i))
			if i < expired {
				require.ErrorIs(t, err, ports.ErrNoCode, "s%d is deleted", i)
			} else {
				require.NoError(t, err, "s%d is kept", i)
			}
		}
	})

	t.Run("CancelledContextWritesNothing", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		stored := sample("s")
		for _, c := range []struct {
			name string
			op   func(s ports.OTPStore) error
		}{
			{"Get", func(s ports.OTPStore) error { _, err := s.Get(cctx, "p", "s"); return err }},
			{"UpdateOfAStoredKey", func(s ports.OTPStore) error {
				_, err := s.Update(cctx, "p", "s", func(v *ports.Verification) error {
					v.Code.State, v.Code.Attempts = ports.CodeVerified, 2
					return nil
				})
				return err
			}},
			{"UpdateOfANewKey", func(s ports.OTPStore) error {
				_, err := s.Update(cctx, "p", "new", func(v *ports.Verification) error {
					*v = sample("new")
					return nil
				})
				return err
			}},
			{"PurgeExpired", func(s ports.OTPStore) error {
				_, err := s.PurgeExpired(cctx, stored.KeepUntil, -1)
				return err
			}},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := newStore(t)
				set(t, s, stored)
				require.ErrorIs(t, c.op(s), context.Canceled)
				requireStored(t, s, "p", "s", stored, "the stored Verification is unchanged")
				_, err := s.Get(ctx, "p", "new")
				require.ErrorIs(t, err, ports.ErrNoCode, "nothing new is stored")
			})
		}
	})
}

// errNothing makes an Update of the suites write nothing.
var errNothing = errors.New("porttest: nothing to write")

// parallel runs f(0..n-1) on n goroutines released at once, and waits for them.
func parallel(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			f(i)
		})
	}
	start.Done()
	done.Wait()
}

package porttest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/concurrent"
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
// slices nil (the ports promise neither a location nor nil against empty). Versions are not
// compared: the store counts them (see "VersionCountsTheStoredWrites").
func normVerification(v ports.Verification) ports.Verification {
	v = v.Clone()
	v.Version = 0
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

// RunOTPStore runs the conformance suite of ports.OTPStore, a sub-test per case of
// otpStoreCases (see CaseNames). newStore must return an empty store; it is called once
// per case.
func RunOTPStore(t *testing.T, f Features, newStore func(t *testing.T) ports.OTPStore) {
	runSuite(t, f, newStore, otpStoreCases)
}

// setVerification stores v under its code's purpose and subject, checking what Update
// returns.
func setVerification(t *testing.T, s ports.OTPStore, v ports.Verification) {
	t.Helper()
	got, err := s.Update(context.Background(), v.Code.Purpose, v.Code.Subject, func(cur *ports.Verification) error {
		*cur = v.Clone()
		return nil
	})
	require.NoError(t, err)
	requireSameVerification(t, "Update returns what it stored", v, got)
}

// requireStored fails unless Get returns want for the purpose and subject.
func requireStored(t *testing.T, s ports.OTPStore, purpose, subject string, want ports.Verification, what string) {
	t.Helper()
	got, err := s.Get(context.Background(), purpose, subject)
	require.NoError(t, err, what)
	requireSameVerification(t, what, want, got)
}

// otpSample is sampleVerification of purpose p and subject, at otpBase.
func otpSample(subject string) ports.Verification {
	return sampleVerification("c-"+subject, "p", subject, otpBase)
}

// otpStoreCases are the cases of RunOTPStore.
var otpStoreCases = []suiteCase[ports.OTPStore]{
	errorsCase(otpStoreErrorCases),
	{name: "NothingStoredIsErrNoCodeAndAZeroVerification", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
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
	}},
	{name: "EveryFieldRoundTrips", each: otpRoundTripCases()},
	{name: "VersionCountsTheStoredWrites", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		// write stores otpSample("s") with one change, checking the version fn saw and the one
		// Update returned.
		write := func(saw, want int64, what string) {
			t.Helper()
			got, err := s.Update(ctx, "p", "s", func(v *ports.Verification) error {
				require.Equal(t, saw, v.Version, "%s: fn sees the stored version", what)
				if v.IsZero() {
					*v = otpSample("s")
				}
				v.Code.Attempts++
				v.Version = 41 // ignored: the store counts
				return nil
			})
			require.NoError(t, err, what)
			require.Equal(t, want, got.Version, "%s: Update returns the version it stored", what)
			stored, err := s.Get(ctx, "p", "s")
			require.NoError(t, err)
			require.Equal(t, want, stored.Version, "%s: Get returns it", what)
		}
		write(0, 1, "the first write")
		write(1, 2, "the second")
		_, err := s.Update(ctx, "p", "s", func(v *ports.Verification) error {
			v.Code.Attempts, v.Version = 9, 99
			return errNothing
		})
		require.Same(t, errNothing, err)
		write(2, 3, "after a failed Update")
		got, err := s.Update(ctx, "p", "s", func(*ports.Verification) error { return nil })
		require.NoError(t, err)
		require.EqualValues(t, 4, got.Version, "an Update that changed nothing but stored counts too")

		// Concurrent Updates: each stores a version of its own, one after the other.
		const n = 40
		versions := make([]int64, n)
		errs := make([]error, n)
		concurrent.Run(n, func(i int) {
			var got ports.Verification
			got, errs[i] = s.Update(ctx, "p", "s", func(v *ports.Verification) error {
				v.Code.Attempts++
				return nil
			})
			versions[i] = got.Version
		})
		for i, err := range errs {
			require.NoError(t, err, "update %d", i)
		}
		slices.Sort(versions)
		for i, v := range versions {
			require.EqualValues(t, 5+i, v, "the concurrent Updates stored versions 5..%d, each once", 4+n)
		}
		stored, err := s.Get(ctx, "p", "s")
		require.NoError(t, err)
		require.EqualValues(t, 4+n, stored.Version)
		require.Equal(t, 4+n, stored.Code.Attempts, "sample's attempt, and one per write but the empty one")

		// Another key counts on its own; a purged key starts again at 1.
		other, err := s.Update(ctx, "p", "t", func(v *ports.Verification) error { *v = otpSample("t"); return nil })
		require.NoError(t, err)
		require.EqualValues(t, 1, other.Version, "another subject has versions of its own")
		purged, err := s.PurgeExpired(ctx, stored.KeepUntil, -1)
		require.NoError(t, err)
		require.Equal(t, 2, purged)
		write(0, 1, "a purged key")
	}},
	{name: "FailedUpdateWritesNothing", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		before := otpSample("s")
		setVerification(t, s, before)
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
	}},
	{name: "ValuesAreCopiedInAndOut", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		want := otpSample("s")
		in := otpSample("s")
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
	}},
	{name: "PurposesAndSubjectsAreIndependent", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		// Keys that a naive "purpose + separator + subject" encoding would confuse.
		keys := [][2]string{{"p", "s"}, {"p", "t"}, {"q", "s"}, {"p\x00s", ""}, {"p", "\x00s"}, {"p\x00", "s"}, {"", "p\x00s"}, {"P", "s"}}
		want := make([]ports.Verification, len(keys))
		for i, k := range keys {
			want[i] = sampleVerification(fmt.Sprintf("c%d", i), k[0], k[1], otpBase)
			setVerification(t, s, want[i])
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
		concurrent.Run(len(errs), func(i int) {
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
	}},
	{name: "ConcurrentUpdatesAreSerialised", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		const n = 100
		errs := make([]error, n)
		// Starting from nothing: the first writes of a key are serialised too.
		concurrent.Run(n, func(i int) {
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
	}},
	{name: "ConcurrentConsumeSucceedsOnce", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		setVerification(t, s, otpSample("s"))
		const n = 100
		var wins, losses, others atomic.Int32
		concurrent.Run(n, func(i int) {
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
	}},
	{name: "ConcurrentFirstWritesOfOneKey", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		const n = 100
		var wins, losses, others atomic.Int32
		var winner atomic.Value
		concurrent.Run(n, func(i int) {
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
	}},
	{name: "PurgeExpiredDeletesAtOrBeforeKeepUntil", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		// s0..s4 keep until otpBase + 0h..4h; every other time they hold is before that.
		want := make([]ports.Verification, 5)
		for i := range want {
			want[i] = sampleVerification(fmt.Sprintf("c%d", i), "p", fmt.Sprintf("s%d", i), otpBase.Add(-24*time.Hour))
			want[i].KeepUntil = otpBase.Add(time.Duration(i) * time.Hour)
			setVerification(t, s, want[i])
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
	}},
	{name: "PurgeExpiredBatchesAreBounded", run: func(t *testing.T, s ports.OTPStore, _ Features) {
		ctx := context.Background()
		const expired, kept = 100, 3
		for i := range expired + kept {
			v := sampleVerification(fmt.Sprintf("c%d", i), "p", fmt.Sprintf("s%d", i), otpBase.Add(-24*time.Hour))
			v.KeepUntil = otpBase.Add(time.Duration(i+1-expired) * time.Second) // s0..s99 at or before otpBase
			setVerification(t, s, v)
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
	}},
	{name: "CancelledContextWritesNothing", each: otpCancelledContextCases()},
}

// otpRoundTripCases are the sub-cases of EveryFieldRoundTrips: each stores a Verification
// on a store of its own and reads it back.
func otpRoundTripCases() []suiteCase[ports.OTPStore] {
	inZone := otpSample("s")
	zone := time.FixedZone("UTC+05:30", 5*3600+1800)
	inZone.Code.CreatedAt, inZone.Code.ExpiresAt = inZone.Code.CreatedAt.In(zone), inZone.Code.ExpiresAt.In(zone)
	inZone.KeepUntil = inZone.KeepUntil.In(zone)
	for i := range inZone.Failures {
		inZone.Failures[i] = inZone.Failures[i].In(zone)
	}
	verified := otpSample("s")
	verified.Code.State, verified.Code.Attempts, verified.Code.UsedAt = ports.CodeVerified, 2, otpBase.Add(time.Minute+time.Microsecond)
	blocked := otpSample("s")
	blocked.Code.State, blocked.Code.Attempts = ports.CodeBlocked, 3
	blocked.Failures = append(blocked.Failures, otpBase.Add(time.Second))
	var cases []suiteCase[ports.OTPStore]
	for _, c := range []struct {
		name string
		v    ports.Verification
	}{
		{"ActiveCodeWithFailures", otpSample("s")},
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
		cases = append(cases, suiteCase[ports.OTPStore]{name: c.name, run: func(t *testing.T, s ports.OTPStore, _ Features) {
			setVerification(t, s, c.v)
			requireStored(t, s, c.v.Code.Purpose, c.v.Code.Subject, c.v, "Get returns what was stored")
		}})
	}
	return cases
}

// otpCancelledContextCases are the sub-cases of CancelledContextWritesNothing: each calls
// the store with a done context, on a store of its own that holds one Verification, which
// must be left as it was, with nothing new stored.
func otpCancelledContextCases() []suiteCase[ports.OTPStore] {
	stored := otpSample("s")
	var cases []suiteCase[ports.OTPStore]
	for _, c := range []struct {
		name string
		op   func(cctx context.Context, s ports.OTPStore) error
	}{
		{"Get", func(cctx context.Context, s ports.OTPStore) error { _, err := s.Get(cctx, "p", "s"); return err }},
		{"UpdateOfAStoredKey", func(cctx context.Context, s ports.OTPStore) error {
			_, err := s.Update(cctx, "p", "s", func(v *ports.Verification) error {
				v.Code.State, v.Code.Attempts = ports.CodeVerified, 2
				return nil
			})
			return err
		}},
		{"UpdateOfANewKey", func(cctx context.Context, s ports.OTPStore) error {
			_, err := s.Update(cctx, "p", "new", func(v *ports.Verification) error {
				*v = otpSample("new")
				return nil
			})
			return err
		}},
		{"PurgeExpired", func(cctx context.Context, s ports.OTPStore) error {
			_, err := s.PurgeExpired(cctx, stored.KeepUntil, -1)
			return err
		}},
	} {
		cases = append(cases, suiteCase[ports.OTPStore]{name: c.name, run: func(t *testing.T, s ports.OTPStore, _ Features) {
			ctx := context.Background()
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			setVerification(t, s, stored)
			require.ErrorIs(t, c.op(cctx, s), context.Canceled)
			requireStored(t, s, "p", "s", stored, "the stored Verification is unchanged")
			_, err := s.Get(ctx, "p", "new")
			require.ErrorIs(t, err, ports.ErrNoCode, "nothing new is stored")
		}})
	}
	return cases
}

// errNothing makes an Update of the suites write nothing.
var errNothing = errors.New("porttest: nothing to write")

// OTPOutboxStores are the stores RunOTPStoreOutbox checks: an OTPStore, the outbox it
// writes the Outbox of its Verifications into, and a rate limiter for the otp engine
// (without one, the engine's check skips).
type OTPOutboxStores struct {
	Store   ports.OTPStore
	Outbox  ports.OutboxStore
	Limiter ports.RateLimiter
}

// RunOTPStoreOutbox checks the events an OTPStore writes with its Verifications: the Outbox
// of a write is stored with it and never kept in the Verification, the events about its code
// carry the Version the write stored (others are left as they are), an Update whose fn fails
// stores none of its events, and concurrent Updates give their events distinct, consecutive
// versions, each the one its write stored. Then it runs the otp engine's standalone codes on
// the stores and checks their events end to end (versions 1, 2, 3, ... across the codes of
// one purpose and subject).
func RunOTPStoreOutbox(t *testing.T, f Features, newStores func(t *testing.T) OTPOutboxStores) {
	runSuite(t, f, newStores, otpStoreOutboxCases)
}

// otpEvent is an event of a test about the code aggregateID, at otpBase.
func otpEvent(typ, aggregateID string) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(typ, "otp_code", aggregateID, otpBase)
	ev.Data = map[string]string{"purpose": "p", "code_id": aggregateID}
	return ev
}

// otpStoreOutboxCases are the cases of RunOTPStoreOutbox.
var otpStoreOutboxCases = []suiteCase[OTPOutboxStores]{
	{name: "WritesCarryTheirEventsStampedWithTheVersion", run: func(t *testing.T, s OTPOutboxStores, _ Features) {
		ctx := context.Background()
		v := sampleVerification("c1", "p", "s", otpBase)
		issued, other := otpEvent("code.issued", "c1"), otpEvent("test.other", "another-aggregate")
		v.Outbox = []ports.LifecycleEvent{issued, other}
		got, err := s.Store.Update(ctx, "p", "s", func(cur *ports.Verification) error { *cur = v.Clone(); return nil })
		require.NoError(t, err)
		require.Empty(t, got.Outbox, "Update hands no events back")
		require.Zero(t, v.Outbox[0].AggregateVersion, "the caller's events are not changed")
		stored, err := s.Store.Get(ctx, "p", "s")
		require.NoError(t, err)
		require.Empty(t, stored.Outbox, "a Verification read back holds no events")

		_, err = s.Store.Update(ctx, "p", "s", func(cur *ports.Verification) error {
			cur.Code.Attempts++
			cur.Outbox = append(cur.Outbox, otpEvent("test.lost", "c1"))
			return errNothing
		})
		require.Same(t, errNothing, err)
		failed := otpEvent("code.failed", "c1")
		failed.Outcome, failed.Reason = ports.OutcomeRefused, "wrong_code"
		got, err = s.Store.Update(ctx, "p", "s", func(cur *ports.Verification) error {
			require.Empty(t, cur.Outbox, "fn starts with no events")
			cur.Code.Attempts++
			cur.Outbox = append(cur.Outbox, failed)
			return nil
		})
		require.NoError(t, err)
		require.EqualValues(t, 2, got.Version, "the failed Update counted nothing")

		evs := outboxEventsOf(t, s.Outbox, "c1", other.AggregateID)
		require.Len(t, evs, 3, "the events of the two writes, none of the failed one")
		versions := map[string]int64{}
		for _, ev := range evs {
			versions[ev.ID] = ev.AggregateVersion
		}
		require.Equal(t, map[string]int64{issued.ID: 1, other.ID: 0, failed.ID: 2}, versions,
			"the events about the code carry the version their write stored; others are left as they are")
		for _, ev := range evs {
			if ev.ID == failed.ID {
				require.Equal(t, failed.Type, ev.Type)
				require.Equal(t, failed.Data, ev.Data)
				require.Equal(t, ports.OutcomeRefused, ev.Outcome)
				require.Equal(t, "wrong_code", ev.Reason)
				require.True(t, failed.Time.Equal(ev.Time))
			}
		}
	}},
	{name: "ConcurrentUpdatesStampConsecutiveVersions", run: func(t *testing.T, s OTPOutboxStores, _ Features) {
		ctx := context.Background()
		const n = 30
		ids := make([]string, n)
		stored := make([]int64, n)
		errs := make([]error, n)
		concurrent.Run(n, func(i int) {
			var got ports.Verification
			got, errs[i] = s.Store.Update(ctx, "p", "s", func(v *ports.Verification) error {
				if v.IsZero() {
					*v = sampleVerification("c1", "p", "s", otpBase)
				}
				v.Code.Attempts++
				ev := otpEvent("code.failed", "c1") // a fresh id on every run of fn
				ids[i] = ev.ID
				v.Outbox = append(v.Outbox, ev)
				return nil
			})
			stored[i] = got.Version
		})
		for i, err := range errs {
			require.NoError(t, err, "update %d", i)
		}
		byID := map[string]int64{}
		for _, ev := range outboxEventsOf(t, s.Outbox, "c1") {
			byID[ev.ID] = ev.AggregateVersion
		}
		require.Len(t, byID, n, "one event per stored write, none of an attempt that lost")
		seen := map[int64]bool{}
		for i, id := range ids {
			v, ok := byID[id]
			require.True(t, ok, "the event of update %d is stored", i)
			require.Equal(t, stored[i], v, "update %d: its event carries the version it stored", i)
			seen[v] = true
		}
		for v := int64(1); v <= n; v++ {
			require.True(t, seen[v], "version %d was stored once", v)
		}
	}},
	{name: "TheEngineEventsCarryTheVersions", run: func(t *testing.T, s OTPOutboxStores, _ Features) {
		if s.Limiter == nil {
			t.Skip("no rate limiter given")
		}
		runOTPEngineOutbox(t, s)
	}},
}

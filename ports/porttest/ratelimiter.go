package porttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/ports"
)

// DefaultModelSequences is how many random call sequences the Model case of
// RunRateLimiter compares with the brute-force model, unless Features.ModelSequences says
// otherwise: about 7,000 calls, a second or two on a local PostgreSQL.
const DefaultModelSequences = 300

// modelSequences is f.ModelSequences, or DefaultModelSequences when it is < 1.
func (f Features) modelSequences() int {
	if f.ModelSequences < 1 {
		return DefaultModelSequences
	}
	return f.ModelSequences
}

// RunRateLimiter runs the conformance suite of ports.RateLimiter, a sub-test per case of
// rateLimiterCases (see CaseNames). newLimiter must return an empty limiter set to its
// defaults (ports.DefaultRateRetention); it is called once per case.
//
// Besides fixed cases, the Model case compares the limiter with an independent
// brute-force model of the rule of ports.DecideRate over random call sequences: random
// limits on every call, a clock that steps backwards and forwards, equal timestamps, Peek
// and Undo. Allowed and RetryAfter must be equal on every call; f.ModelSequences sets how
// many sequences.
//
// Batches (ports.DecideRates) are checked the same way, twice: Batch through the limiter's
// own DecideRates when it is a ports.BatchRateLimiter, BatchKeyByKey with it hidden
// (ports.DecideRatesEach over its Peek, Allow and Undo). Each has fixed cases, a race of
// concurrent batches and single calls over a shared limit, and a model of random batches
// over three keys among single calls.
func RunRateLimiter(t *testing.T, f Features, newLimiter func(t *testing.T) ports.RateLimiter) {
	runSuite(t, f, newLimiter, rateLimiterCases)
}

// The limits of the fixed cases: five sends in ten minutes, thirty seconds apart.
var (
	perWindow = ports.RateLimit{Max: 5, Per: 10 * time.Minute}
	apart     = ports.RateLimit{Max: 1, Per: 30 * time.Second}
)

// rateLimiterCases are the cases of RunRateLimiter.
var rateLimiterCases = []suiteCase[ports.RateLimiter]{
	errorsCase(rateLimiterErrorCases),
	{name: "SlidingWindow", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		now := base
		for i := range 5 {
			d, err := l.Allow(ctx, "k", now, perWindow, apart)
			require.NoError(t, err)
			require.True(t, d.Allowed, "send %d", i+1)
			now = now.Add(31 * time.Second)
		}
		// The 6th within 10 minutes of the first is refused until the first leaves.
		d, err := l.Allow(ctx, "k", now, perWindow, apart)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, base.Add(10*time.Minute).Sub(now), d.RetryAfter)
		d, err = l.Allow(ctx, "k", base.Add(10*time.Minute), perWindow, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed, "once the first send leaves the window")
	}},
	{name: "MinimumInterval", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		d, err := l.Allow(ctx, "k", base, perWindow, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		d, err = l.Allow(ctx, "k", base.Add(10*time.Second), perWindow, apart)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 20*time.Second, d.RetryAfter)
		d, err = l.Allow(ctx, "k", base.Add(30*time.Second), perWindow, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}},
	{name: "DeniedRecordsNothingAndPeekRecordsNothing", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		one := ports.RateLimit{Max: 2, Per: time.Minute}
		for range 5 {
			d, err := l.Peek(ctx, "k", base, one)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		for range 2 {
			d, err := l.Allow(ctx, "k", base, one)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		for range 3 {
			d, err := l.Allow(ctx, "k", base.Add(30*time.Second), one)
			require.NoError(t, err)
			require.False(t, d.Allowed)
		}
		// Had the denied events been recorded, this would still be denied.
		d, err := l.Allow(ctx, "k", base.Add(time.Minute), one)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}},
	{name: "NoLimitsAllowsAndRecordsNothing", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		for range 3 {
			d, err := l.Allow(ctx, "k", base)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		d, err := l.Allow(ctx, "k", base, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed, "the calls without limits recorded no event")
	}},
	{name: "UndoRemovesOneEvent", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		two := ports.RateLimit{Max: 2, Per: time.Minute}
		for _, at := range []time.Time{base, base.Add(time.Second)} {
			d, err := l.Allow(ctx, "k", at, two)
			require.NoError(t, err)
			require.True(t, d.Allowed)
		}
		d, err := l.Peek(ctx, "k", base.Add(2*time.Second), two)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.NoError(t, l.Undo(ctx, "k", base.Add(time.Second)))
		require.NoError(t, l.Undo(ctx, "k", base.Add(time.Hour)), "no such event: nothing to undo")
		require.NoError(t, l.Undo(ctx, "other", base), "no such key: nothing to undo")
		d, err = l.Allow(ctx, "k", base.Add(2*time.Second), two)
		require.NoError(t, err)
		require.True(t, d.Allowed, "the undone event no longer counts")
		d, err = l.Allow(ctx, "k", base.Add(3*time.Second), two)
		require.NoError(t, err)
		require.False(t, d.Allowed, "only one event was undone")
		require.Equal(t, time.Minute-3*time.Second, d.RetryAfter, "the first event still counts")
	}},
	{name: "ConcurrentAllowAndUndoKeepTheCount", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		roomy := ports.RateLimit{Max: 1000, Per: time.Hour}
		// 55 events are recorded at once and 50 of them given back concurrently:
		// afterwards exactly 5 count, whatever the interleaving.
		var errs atomic.Int32
		concurrent.Run(55, func(i int) {
			at := base.Add(time.Duration(i) * time.Millisecond)
			d, err := l.Allow(ctx, "k", at, roomy)
			if err != nil || !d.Allowed {
				errs.Add(1)
				return
			}
			if i >= 5 {
				if err := l.Undo(ctx, "k", at); err != nil {
					errs.Add(1)
				}
			}
		})
		require.Zero(t, errs.Load())
		six := ports.RateLimit{Max: 6, Per: time.Hour}
		d, err := l.Allow(ctx, "k", base.Add(time.Second), six)
		require.NoError(t, err)
		require.True(t, d.Allowed, "no more than 5 events stayed")
		d, err = l.Allow(ctx, "k", base.Add(2*time.Second), six)
		require.NoError(t, err)
		require.False(t, d.Allowed, "no fewer than 5 events stayed")
	}},
	{name: "KeysAreIndependent", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		d, err := l.Allow(ctx, "a", base, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		d, err = l.Allow(ctx, "b", base, apart)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}},
	{name: "ConcurrentAllowNeverPassesLimit", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		ctx := context.Background()
		var allowed, errs atomic.Int32
		concurrent.Run(100, func(int) {
			d, err := l.Allow(ctx, "k", base, perWindow)
			if err != nil {
				errs.Add(1)
			} else if d.Allowed {
				allowed.Add(1)
			}
		})
		require.Zero(t, errs.Load())
		require.EqualValues(t, 5, allowed.Load())
	}},
	{name: "OutOfOrderAndChangingLimits", run: func(t *testing.T, l ports.RateLimiter, _ Features) {
		runRateCases(t, l)
	}},
	{name: "Model", run: func(t *testing.T, l ports.RateLimiter, f Features) {
		runRateModel(t, l, f.modelSequences())
	}},
	{name: "Batch", each: rateBatchCases(func(l ports.RateLimiter) ports.RateLimiter { return l })},
	{name: "BatchKeyByKey", each: rateBatchCases(func(l ports.RateLimiter) ports.RateLimiter { return keyByKey{l} })},
}

// rateStep is one call of a fixed rate-limiter case, at base+at, and what it must answer.
type rateStep struct {
	op      string // "allow", "peek" or "undo"
	at      time.Duration
	limits  []ports.RateLimit
	allowed bool
	retry   time.Duration
}

func allowAt(at time.Duration, lim ports.RateLimit, allowed bool, retry time.Duration) rateStep {
	return rateStep{op: "allow", at: at, limits: []ports.RateLimit{lim}, allowed: allowed, retry: retry}
}

func peekAt(at time.Duration, lim ports.RateLimit, allowed bool, retry time.Duration) rateStep {
	return rateStep{op: "peek", at: at, limits: []ports.RateLimit{lim}, allowed: allowed, retry: retry}
}

func undoAt(at time.Duration) rateStep { return rateStep{op: "undo", at: at} }

// runRateCases runs the fixed cases on l, each on a key of its own: the reproductions of
// issue 24 (events that arrive out of time order, limits that change between calls) and
// the retention the limiter promises.
func runRateCases(t *testing.T, l ports.RateLimiter) {
	ctx := context.Background()
	const s, ms, h = time.Second, time.Millisecond, time.Hour
	lim := func(max int, per time.Duration) ports.RateLimit { return ports.RateLimit{Max: max, Per: per} }
	cases := []struct {
		name  string
		steps []rateStep
	}{
		{name: "ClockStepsBack", steps: []rateStep{ // three events in (-2s, 0] would pass 2 per 2s
			allowAt(-1*s, lim(2, 2*s), true, 0),
			allowAt(-2*s, lim(2, 2*s), true, 0),
			allowAt(0, lim(2, 2*s), true, 0),
			allowAt(0, lim(2, 2*s), false, s),
		}},
		{name: "LateEventsCountByTime", steps: []rateStep{
			allowAt(60*s, lim(2, 2*s), true, 0),
			allowAt(57*s, lim(2, 2*s), true, 0),
			allowAt(59*s, lim(2, 2*s), true, 0),
			allowAt(59*s+500*ms, lim(2, 2*s), true, 0),
			allowAt(61*s, lim(2, 2*s), false, 500*ms), // 59.5 s and 60 s are in (59 s, 61 s]
		}},
		{name: "LimitsChangeBetweenCalls", steps: []rateStep{
			allowAt(0, lim(5, s), true, 0),
			allowAt(5*s, lim(4, 5*s), true, 0),
			allowAt(5*s+2, lim(2, 10*s), false, 5*s-2), // the event at 0 is still in the window
		}},
		{name: "RetryAfterByTimeNotArrival", steps: []rateStep{
			allowAt(2*s, lim(2, 10*s), true, 0),
			allowAt(s, lim(2, 10*s), true, 0),
			peekAt(5*s, lim(2, 10*s), false, 6*s), // the event at 1 s leaves first, at 11 s
		}},
		{name: "EventsLaterThanNowCountOnceNowReachesThem", steps: []rateStep{
			allowAt(10*s, lim(1, 5*s), true, 0),
			peekAt(6*s, lim(1, 5*s), true, 0),
			allowAt(6*s, lim(1, 5*s), true, 0),
			allowAt(11*s, lim(1, 5*s), false, 4*s), // 10 s is in (6 s, 11 s]; 6 s is not
			peekAt(10*s, lim(2, 5*s), false, s),    // 6 s and 10 s are in (5 s, 10 s]
		}},
		{name: "EqualTimesAndTheWindowEdge", steps: []rateStep{
			allowAt(0, lim(2, s), true, 0),
			allowAt(0, lim(2, s), true, 0),
			allowAt(0, lim(2, s), false, s),
			allowAt(s-1, lim(2, s), false, 1),
			allowAt(s, lim(2, s), true, 0), // (0, 1 s] holds neither event at 0
		}},
		{name: "UndoAmongOutOfOrderEvents", steps: []rateStep{
			allowAt(2*s, lim(3, 10*s), true, 0),
			allowAt(s, lim(3, 10*s), true, 0),
			allowAt(3*s, lim(3, 10*s), true, 0),
			undoAt(s),
			peekAt(4*s, lim(3, 10*s), true, 0),
			allowAt(4*s, lim(3, 10*s), true, 0),
			allowAt(4*s+500*ms, lim(3, 10*s), false, 7*s+500*ms), // 2 s, 3 s, 4 s: 2 s leaves at 12 s
		}},
		{name: "UndoOfEqualTimesRemovesOne", steps: []rateStep{
			allowAt(0, lim(3, time.Minute), true, 0),
			allowAt(0, lim(3, time.Minute), true, 0),
			allowAt(0, lim(3, time.Minute), true, 0),
			undoAt(0),
			allowAt(0, lim(3, time.Minute), true, 0),
			allowAt(0, lim(3, time.Minute), false, time.Minute),
		}},
		{name: "DefaultRetentionOutlivesTheCallsLimits", steps: []rateStep{
			allowAt(0, lim(1, time.Minute), true, 0),
			allowAt(23*h, lim(1, time.Minute), true, 0), // keeps the event at 0: a day is kept
			peekAt(23*h+30*time.Minute, lim(2, 24*h), false, 30*time.Minute),
		}},
		{name: "LongestWindowAskedIsKept", steps: []rateStep{
			allowAt(0, lim(1, 48*h), true, 0),
			allowAt(25*h, lim(1, time.Minute), true, 0), // keeps the event at 0: 48 hours were asked
			peekAt(26*h, lim(2, 48*h), false, 22*h),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := "case/" + tc.name
			for i, st := range tc.steps {
				at := base.Add(st.at)
				var (
					d   ports.RateDecision
					err error
				)
				switch st.op {
				case "allow":
					d, err = l.Allow(ctx, key, at, st.limits...)
				case "peek":
					d, err = l.Peek(ctx, key, at, st.limits...)
				case "undo":
					require.NoError(t, l.Undo(ctx, key, at), "step %d", i)
					continue
				}
				require.NoError(t, err, "step %d", i)
				require.Equal(t, ports.RateDecision{Allowed: st.allowed, RetryAfter: st.retry}, d,
					"step %d: %s at %v with %v", i, st.op, st.at, st.limits)
			}
		})
	}
}

// rateModel is the brute-force model of the rule of ports.DecideRate: the recorded event
// times of one key (nanoseconds from base) in the order they came, counted afresh on every
// call without sorting.
type rateModel struct {
	events []int64
}

// decide answers a call at now: allowed when, for every limit, fewer than Max events lie in
// (now-Per, now]; otherwise the wait is, among the denying limits, the longest of the
// smallest waits after which fewer than Max of the window's events are still in the window.
func (m *rateModel) decide(now int64, limits []ports.RateLimit) ports.RateDecision {
	d := ports.RateDecision{Allowed: true}
	for _, lim := range limits {
		per := int64(lim.Per)
		var in []int64
		for _, e := range m.events {
			if e > now-per && e <= now {
				in = append(in, e)
			}
		}
		if len(in) < lim.Max {
			continue
		}
		d.Allowed = false
		// Try every moment an event leaves; the first after which fewer than Max are left.
		best := int64(-1)
		for _, leaving := range in {
			w := leaving + per - now // the window (now+w-per, now+w] no longer holds leaving
			left := 0
			for _, e := range in {
				if e > now+w-per {
					left++
				}
			}
			if left < lim.Max && (best < 0 || w < best) {
				best = w
			}
		}
		d.RetryAfter = max(d.RetryAfter, time.Duration(best))
	}
	return d
}

func (m *rateModel) undo(at int64) {
	for i, e := range m.events {
		if e == at {
			m.events = append(m.events[:i], m.events[i+1:]...)
			return
		}
	}
}

// runRateModel compares l with the model over n random call sequences, each on a key of its
// own, 8 at a time; every sequence is drawn from a seed of its own, named in a failure with
// the calls that led to it.
func runRateModel(t *testing.T, l ports.RateLimiter, n int) {
	ctx := context.Background()
	var (
		mu       sync.Mutex
		failures []string
		failed   atomic.Bool
		next     atomic.Int64
		calls    atomic.Int64
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for !failed.Load() {
				seq := next.Add(1) - 1
				if seq >= int64(n) {
					return
				}
				ops, msg := rateModelSequence(ctx, l, uint64(seq))
				calls.Add(int64(ops))
				if msg != "" {
					failed.Store(true)
					mu.Lock()
					failures = append(failures, msg)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, failures, "the limiter and the model disagree")
	t.Logf("%d sequences, %d calls: the limiter agrees with the model", n, calls.Load())
}

// Pers are the windows the model test draws from: a nanosecond, fractions of seconds and
// seconds, on the same 250 ms grid as the clock steps, so events fall on window edges.
var modelPers = []time.Duration{
	1, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond,
	2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second,
}

// rateModelSequence runs one random sequence (seed seq) on l and the model, and returns how
// many calls it made and, when they disagree, what happened.
func rateModelSequence(ctx context.Context, l ports.RateLimiter, seq uint64) (int, string) {
	rng := rand.New(rand.NewPCG(0x24, seq))
	key := fmt.Sprintf("model/%d", seq)
	var (
		m       rateModel
		now     int64
		allowed []int64
		history strings.Builder
	)
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("sequence %d (key %q), calls at nanoseconds from base:\n%s"+format,
			append([]any{seq, key, history.String()}, args...)...)
	}
	steps := 10 + rng.IntN(30)
	for i := range steps {
		now = modelStep(rng, now)
		limits := modelLimits(rng, 1)
		at := base.Add(time.Duration(now))
		switch op := rng.IntN(20); {
		case op < 12:
			fmt.Fprintf(&history, "  %d: Allow at %d %v\n", i, now, limits)
			want := m.decide(now, limits)
			got, err := l.Allow(ctx, key, at, limits...)
			if err != nil {
				return i + 1, fail("Allow: %v", err)
			}
			if got != want {
				return i + 1, fail("Allow answered %+v, the model %+v", got, want)
			}
			if want.Allowed {
				m.events = append(m.events, now)
				allowed = append(allowed, now)
			}
		case op < 16:
			fmt.Fprintf(&history, "  %d: Peek at %d %v\n", i, now, limits)
			want := m.decide(now, limits)
			got, err := l.Peek(ctx, key, at, limits...)
			if err != nil {
				return i + 1, fail("Peek: %v", err)
			}
			if got != want {
				return i + 1, fail("Peek answered %+v, the model %+v", got, want)
			}
		default:
			// An event allowed before (perhaps undone already), or one at now.
			undo := now
			if len(allowed) > 0 && rng.IntN(5) > 0 {
				undo = allowed[rng.IntN(len(allowed))]
			}
			fmt.Fprintf(&history, "  %d: Undo at %d\n", i, undo)
			if err := l.Undo(ctx, key, base.Add(time.Duration(undo))); err != nil {
				return i + 1, fail("Undo: %v", err)
			}
			m.undo(undo)
		}
	}
	return steps, ""
}

// modelStep moves the model clock now: it stays, moves a nanosecond, or steps up to 3 s
// forwards or backwards.
func modelStep(rng *rand.Rand, now int64) int64 {
	switch r := rng.IntN(10); {
	case r < 2:
	case r < 3:
		now += int64(1 - 2*rng.IntN(2))
	case r < 7:
		now += int64(1+rng.IntN(12)) * int64(250*time.Millisecond)
	default:
		now -= int64(1+rng.IntN(12)) * int64(250*time.Millisecond)
	}
	return now
}

// modelLimits draws from least to 3 random limits.
func modelLimits(rng *rand.Rand, least int) []ports.RateLimit {
	limits := make([]ports.RateLimit, least+rng.IntN(4-least))
	for j := range limits {
		per := modelPers[rng.IntN(len(modelPers))]
		if rng.IntN(8) == 0 {
			per = time.Duration(1 + rng.Int64N(int64(10*time.Second)))
		}
		limits[j] = ports.RateLimit{Max: 1 + rng.IntN(4), Per: per}
	}
	return limits
}

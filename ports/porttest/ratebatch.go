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

// keyByKey hides a limiter's DecideRates, so that ports.DecideRates decides its batches key
// by key (ports.DecideRatesEach).
type keyByKey struct{ ports.RateLimiter }

// rateBatchCases are the batch cases of RunRateLimiter, each on the limiter as wrap
// returns it.
func rateBatchCases(wrap func(ports.RateLimiter) ports.RateLimiter) []suiteCase[ports.RateLimiter] {
	return []suiteCase[ports.RateLimiter]{
		{name: "GoesThroughOrRecordsNothing", run: func(t *testing.T, l ports.RateLimiter, _ Features) { runBatchCases(t, wrap(l)) }},
		{name: "ConcurrentBatchesNeverPassALimit", run: func(t *testing.T, l ports.RateLimiter, _ Features) { runBatchRace(t, wrap(l)) }},
		{name: "Model", run: func(t *testing.T, l ports.RateLimiter, f Features) { runBatchModel(t, wrap(l), f.modelSequences()) }},
	}
}

// runBatchCases runs fixed batches on l and checks each answer and what it recorded.
func runBatchCases(t *testing.T, l ports.RateLimiter) {
	ctx := context.Background()
	one := []ports.RateLimit{{Max: 1, Per: time.Minute}}
	two := []ports.RateLimit{{Max: 2, Per: time.Minute}}
	rec := func(key string, limits []ports.RateLimit) ports.RateRequest {
		return ports.RateRequest{Key: key, Limits: limits, Record: true}
	}
	decide := func(at time.Duration, reqs ...ports.RateRequest) []ports.RateDecision {
		t.Helper()
		ds, err := ports.DecideRates(ctx, l, base.Add(at), reqs)
		require.NoError(t, err)
		require.Len(t, ds, len(reqs))
		return ds
	}
	// events requires key to hold n events in the minute before base+at.
	events := func(key string, at time.Duration, n int) {
		t.Helper()
		if n > 0 {
			d, err := l.Peek(ctx, key, base.Add(at), ports.RateLimit{Max: n, Per: time.Minute})
			require.NoError(t, err)
			require.False(t, d.Allowed, "%s holds at least %d events", key, n)
		}
		d, err := l.Peek(ctx, key, base.Add(at), ports.RateLimit{Max: n + 1, Per: time.Minute})
		require.NoError(t, err)
		require.True(t, d.Allowed, "%s holds at most %d events", key, n)
	}
	allowed := ports.RateDecision{Allowed: true}

	require.Equal(t, []ports.RateDecision{allowed, allowed}, decide(0, rec("a", two), rec("b", one)))
	events("a", 0, 1)
	events("b", 0, 1)
	// b denies: the batch records nothing, and a is answered as its own limits decide.
	require.Equal(t, []ports.RateDecision{allowed, {RetryAfter: 50 * time.Second}},
		decide(10*time.Second, rec("a", two), rec("b", one)))
	events("a", 10*time.Second, 1)
	// An optional request that denies holds nothing back, and records nothing.
	optB := rec("b", one)
	optB.Optional = true
	require.Equal(t, []ports.RateDecision{allowed, {RetryAfter: 40 * time.Second}},
		decide(20*time.Second, rec("a", two), optB))
	events("a", 20*time.Second, 2)
	events("b", 20*time.Second, 1)
	// A request that only looks holds the batch back when it denies, and records nothing
	// when it allows.
	lookB := ports.RateRequest{Key: "b", Limits: one}
	require.Equal(t, []ports.RateDecision{{RetryAfter: 30 * time.Second}, allowed},
		decide(30*time.Second, lookB, rec("c", one)))
	events("c", 30*time.Second, 0)
	lookC := ports.RateRequest{Key: "c", Limits: one}
	require.Equal(t, []ports.RateDecision{allowed, allowed}, decide(30*time.Second, lookC, rec("d", one)))
	events("c", 30*time.Second, 0)
	events("d", 30*time.Second, 1)
	lookB.Optional = true
	require.Equal(t, []ports.RateDecision{{RetryAfter: 30 * time.Second}, allowed}, decide(30*time.Second, lookB, rec("e", one)))
	events("e", 30*time.Second, 1)
	// No limits: allowed, nothing recorded; an empty batch answers nothing.
	require.Equal(t, []ports.RateDecision{allowed}, decide(40*time.Second, rec("f", nil)))
	events("f", 40*time.Second, 0)
	require.Empty(t, decide(40*time.Second))
	// Undo gives back an event a batch recorded.
	require.NoError(t, l.Undo(ctx, "d", base.Add(30*time.Second)))
	events("d", 40*time.Second, 0)

	_, err := ports.DecideRates(ctx, l, base, []ports.RateRequest{rec("g", one), rec("g", two)})
	require.ErrorIs(t, err, ports.ErrDuplicateRateKey)
	events("g", 0, 0)
}

// runBatchRace races batches and single calls on l: a limit shared by every batch is never
// passed, and a batch that does not go through leaves nothing behind.
func runBatchRace(t *testing.T, l ports.RateLimiter) {
	ctx := context.Background()
	shared := []ports.RateLimit{{Max: 5, Per: time.Hour}}
	roomy := []ports.RateLimit{{Max: 1000, Per: time.Hour}}
	var through, errs atomic.Int32
	concurrent.Run(60, func(i int) {
		if i%3 == 0 { // single calls compete for the same limit
			if _, err := l.Allow(ctx, "race/single", base, roomy...); err != nil {
				errs.Add(1)
			}
			return
		}
		reqs := []ports.RateRequest{
			{Key: "race/own/" + fmt.Sprint(i), Limits: roomy, Record: true},
			{Key: "race/shared", Limits: shared, Record: true},
			{Key: "race/roomy", Limits: roomy, Record: true},
			{Key: "race/sample", Limits: []ports.RateLimit{{Max: 3, Per: time.Hour}}, Record: true, Optional: true},
		}
		ds, err := ports.DecideRates(ctx, l, base, reqs)
		switch {
		case err != nil:
			errs.Add(1)
		case ports.RateBatchGoesThrough(reqs, ds):
			through.Add(1)
		}
	})
	require.Zero(t, errs.Load())
	require.EqualValues(t, 5, through.Load(), "exactly as many batches went through as the shared limit allows")
	// The optional sample may hold fewer than 3: a limiter that decides a batch key by key
	// may have recorded, for a moment, events of batches that did not go through.
	for _, c := range []struct {
		key      string
		least, n int
	}{{"race/shared", 5, 5}, {"race/roomy", 5, 5}, {"race/sample", 0, 3}, {"race/single", 20, 20}} {
		if c.least > 0 {
			d, err := l.Peek(ctx, c.key, base, ports.RateLimit{Max: c.least, Per: time.Hour})
			require.NoError(t, err)
			require.False(t, d.Allowed, "%s: at least %d events", c.key, c.least)
		}
		d, err := l.Peek(ctx, c.key, base, ports.RateLimit{Max: c.n + 1, Per: time.Hour})
		require.NoError(t, err)
		require.True(t, d.Allowed, "%s: at most %d events: the batches that did not go through left none", c.key, c.n)
	}
}

// batchModel is the model of a limiter over several keys: a rateModel per key.
type batchModel map[string]*rateModel

func (m batchModel) key(k string) *rateModel {
	if m[k] == nil {
		m[k] = &rateModel{}
	}
	return m[k]
}

// decide answers a batch at now by the rule of ports.DecideRates, and records its events.
func (m batchModel) decide(now int64, reqs []ports.RateRequest) []ports.RateDecision {
	ds := make([]ports.RateDecision, len(reqs))
	for i, r := range reqs {
		ds[i] = m.key(r.Key).decide(now, r.Limits)
	}
	if ports.RateBatchGoesThrough(reqs, ds) {
		for i, r := range reqs {
			if r.Record && ds[i].Allowed && len(r.Limits) > 0 {
				m.key(r.Key).events = append(m.key(r.Key).events, now)
			}
		}
	}
	return ds
}

// runBatchModel compares l with the model over n random sequences of batches and single
// calls on three keys, 8 sequences at a time.
func runBatchModel(t *testing.T, l ports.RateLimiter, n int) {
	var (
		mu       sync.Mutex
		failures []string
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for {
				seq := next.Add(1) - 1
				if seq >= int64(n) {
					return
				}
				if msg := batchModelSequence(context.Background(), l, uint64(seq)); msg != "" {
					mu.Lock()
					failures = append(failures, msg)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	require.Empty(t, failures, "the limiter's batches and the model disagree")
}

// batchModelSequence runs one random sequence (seed seq) on l and the model, and describes
// the first disagreement, if any.
func batchModelSequence(ctx context.Context, l ports.RateLimiter, seq uint64) string {
	rng := rand.New(rand.NewPCG(0xba7c4, seq))
	keys := []string{fmt.Sprintf("batch/%d/a", seq), fmt.Sprintf("batch/%d/b", seq), fmt.Sprintf("batch/%d/c", seq)}
	m := batchModel{}
	var (
		now     int64
		history strings.Builder
	)
	for i := range 10 + rng.IntN(30) {
		now = modelStep(rng, now)
		at := base.Add(time.Duration(now))
		key := keys[rng.IntN(len(keys))]
		var err error
		switch op := rng.IntN(10); {
		case op < 6:
			var reqs []ports.RateRequest
			for _, k := range keys {
				if rng.IntN(3) > 0 {
					reqs = append(reqs, ports.RateRequest{Key: k, Limits: modelLimits(rng, 0),
						Record: rng.IntN(4) > 0, Optional: rng.IntN(3) == 0})
				}
			}
			rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
			fmt.Fprintf(&history, "  %d: DecideRates at %d %+v\n", i, now, reqs)
			var got []ports.RateDecision
			got, err = ports.DecideRates(ctx, l, at, reqs)
			if want := m.decide(now, reqs); err == nil && !equalDecisions(got, want) {
				return fmt.Sprintf("sequence %d:\n%sDecideRates answered %+v, the model %+v", seq, history.String(), got, want)
			}
		case op < 8:
			limits := modelLimits(rng, 1)
			fmt.Fprintf(&history, "  %d: Allow %s at %d %v\n", i, key, now, limits)
			var got ports.RateDecision
			got, err = l.Allow(ctx, key, at, limits...)
			want := m.key(key).decide(now, limits)
			if want.Allowed {
				m.key(key).events = append(m.key(key).events, now)
			}
			if err == nil && got != want {
				return fmt.Sprintf("sequence %d:\n%sAllow answered %+v, the model %+v", seq, history.String(), got, want)
			}
		default:
			fmt.Fprintf(&history, "  %d: Undo %s at %d\n", i, key, now)
			err = l.Undo(ctx, key, at)
			m.key(key).undo(now)
		}
		if err != nil {
			return fmt.Sprintf("sequence %d:\n%s%v", seq, history.String(), err)
		}
	}
	return ""
}

// equalDecisions reports whether a and b are the same decisions (none and empty alike).
func equalDecisions(a, b []ports.RateDecision) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

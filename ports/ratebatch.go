package ports

import (
	"context"
	"errors"
	"time"
)

// RateRequest is one key of a batch of rate decisions (DecideRates).
type RateRequest struct {
	// Key is the limiter key. The keys of one batch are distinct.
	Key string
	// Limits are the limits of Key, as in RateLimiter.Allow: none allows.
	Limits []RateLimit
	// Record asks for one event to be recorded for Key at now, as Allow records it, when the
	// batch goes through and Key's own limits allow it. Without it the request only looks,
	// as Peek does.
	Record bool
	// Optional requests do not hold the batch back: their answer is reported, but when one
	// denies, the batch still goes through (and the optional request, denied, records
	// nothing). A batch goes through when every request that is not Optional is allowed.
	Optional bool
}

// BatchRateLimiter is a RateLimiter that decides several keys in one call, as a host with
// several limits per event needs (the otp engine checks up to eight keys for one code). It
// is optional: DecideRates uses it when a limiter implements it, and decides key by key
// otherwise. The memory, PostgreSQL and Redis limiters implement it. DecideRates answers
// ErrDuplicateRateKey for a batch that names a key twice (CheckRateBatch), as
// ports.DecideRates does.
type BatchRateLimiter interface {
	RateLimiter
	// DecideRates decides every request at now by the rule of DecideRate, on the events of
	// its key before this batch records any (see DecideRates), and answers one decision per
	// request, in order.
	DecideRates(ctx context.Context, now time.Time, reqs []RateRequest) ([]RateDecision, error)
}

// ErrDuplicateRateKey answers a batch that names a key twice.
var ErrDuplicateRateKey = errors.New("ports: a batch of rate requests names a key twice")

// DecideRates decides reqs at now with l: every request is decided by the rule of
// DecideRate on the events of its key, as Peek decides it. When every request that is not
// Optional is allowed, the batch goes through: every request that asks to Record and is
// allowed records one event at now, as Allow does. When a request that is not Optional is
// denied, nothing is recorded. It answers one decision per request, in order, and
// ErrDuplicateRateKey for a batch that names a key twice.
//
// Under concurrent use no limit is passed: what a batch decides and records for a key is
// atomic with every other call for that key (Allow, Peek, Undo and other batches). A
// limiter may decide the keys of one batch one after another (DecideRates does, for a
// limiter that is not a BatchRateLimiter, with Peek, Allow and Undo): then a batch that does
// not go through may have recorded some of its events for a moment, and removes them before
// it returns. The memory and PostgreSQL limiters decide a whole batch atomically, and so
// does Redis on one node.
func DecideRates(ctx context.Context, l RateLimiter, now time.Time, reqs []RateRequest) ([]RateDecision, error) {
	if b, ok := l.(BatchRateLimiter); ok {
		return b.DecideRates(ctx, now, reqs) // which checks reqs (CheckRateBatch)
	}
	return DecideRatesEach(ctx, l, now, reqs)
}

// CheckRateBatch answers ErrDuplicateRateKey when reqs name a key twice; a
// BatchRateLimiter checks its batches with it.
func CheckRateBatch(reqs []RateRequest) error {
	for i := 1; i < len(reqs); i++ {
		for j := range i {
			if reqs[i].Key == reqs[j].Key {
				return ErrDuplicateRateKey
			}
		}
	}
	return nil
}

// DecideRatesEach is DecideRates key by key, with l's Peek, Allow and Undo: the requests
// that only look first, then those that record, in order; once one that is not Optional is
// denied, the events recorded so far are removed and the rest are only looked at. It is
// what DecideRates does for a limiter that is not a BatchRateLimiter, and what a
// BatchRateLimiter can fall back to for a batch it cannot decide at once (keys on several
// shards).
func DecideRatesEach(ctx context.Context, l RateLimiter, now time.Time, reqs []RateRequest) ([]RateDecision, error) {
	if err := CheckRateBatch(reqs); err != nil {
		return nil, err
	}
	ds := make([]RateDecision, len(reqs))
	through := true
	for i, r := range reqs {
		if r.Record {
			continue
		}
		d, err := l.Peek(ctx, r.Key, now, r.Limits...)
		if err != nil {
			return nil, err
		}
		ds[i] = d
		through = through && (d.Allowed || r.Optional)
	}
	var recorded []string
	giveBack := func() error {
		var errs []error
		for _, key := range recorded {
			errs = append(errs, l.Undo(context.WithoutCancel(ctx), key, now))
		}
		recorded = nil
		return errors.Join(errs...)
	}
	for i, r := range reqs {
		if !r.Record {
			continue
		}
		decide := l.Allow
		if !through {
			decide = l.Peek
		}
		d, err := decide(ctx, r.Key, now, r.Limits...)
		if err != nil {
			return nil, errors.Join(err, giveBack())
		}
		ds[i] = d
		switch {
		case !through:
		case d.Allowed:
			if len(r.Limits) > 0 { // Allow records nothing without limits
				recorded = append(recorded, r.Key)
			}
		case !r.Optional:
			through = false
			if err := giveBack(); err != nil {
				return nil, err
			}
		}
	}
	return ds, nil
}

// BatchLongestPer returns the longest Per of the limits of reqs (0 for none), and false when
// a limit has a Max or Per that is not positive (a limiter refuses such limits, as
// LongestPer tells).
func BatchLongestPer(reqs []RateRequest) (time.Duration, bool) {
	var longest time.Duration
	for _, r := range reqs {
		per, ok := LongestPer(r.Limits)
		if !ok {
			return 0, false
		}
		longest = max(longest, per)
	}
	return longest, true
}

// RateBatchGoesThrough reports whether a batch of reqs that answered ds went through: every
// request that is not Optional was allowed.
func RateBatchGoesThrough(reqs []RateRequest, ds []RateDecision) bool {
	for i, r := range reqs {
		if !r.Optional && !ds[i].Allowed {
			return false
		}
	}
	return true
}

// Package sendutil holds what adapters that call a service again and again share: reading
// Retry-After and waiting for the send pace (adapters/twilio, adapters/webhook), and waiting
// between tries (those and adapters/redis), each ending with the call's context.
package sendutil

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// RetryAfter reads a Retry-After header: delay seconds or an HTTP date; zero when absent,
// malformed or in the past.
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// Pace waits for a token of l (nil: no pacing). A cancelled ctx ends the wait with its
// error, and a deadline the wait would pass with context.DeadlineExceeded, both wrapped
// with "<who>: waiting for the send pace".
func Pace(ctx context.Context, l *rate.Limiter, who string) error {
	if l == nil {
		return nil
	}
	if err := l.Wait(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: waiting for the send pace: %w", who, ctxErr)
		}
		return fmt.Errorf("%s: waiting for the send pace: %w", who, context.DeadlineExceeded)
	}
	return nil
}

// Sleep waits d, or until ctx ends (its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Retry is how a sender paces its calls and retries a failed one: the defaults of a
// provider sender's Config, applied once by NewRetry.
type Retry struct {
	// Limiter paces every try; nil: no pacing.
	Limiter *rate.Limiter
	// Retries is how many times a failed try is retried at most.
	Retries int
	// MaxWait is the longest wait before a retry: a failure asking for longer is final.
	MaxWait time.Duration
	// Who names the sender in the pacing errors, e.g. "twilio".
	Who string
}

// NewRetry returns the Retry of a sender's settings: limiter, or else one of perSecond
// messages a second (none when zero); retries, 2 when zero and none when negative; maxWait,
// 10 seconds when not positive.
func NewRetry(who string, limiter *rate.Limiter, perSecond float64, retries int, maxWait time.Duration) Retry {
	if limiter == nil && perSecond > 0 {
		limiter = rate.NewLimiter(rate.Limit(perSecond), 1)
	}
	switch {
	case retries == 0:
		retries = 2
	case retries < 0:
		retries = 0
	}
	if maxWait <= 0 {
		maxWait = 10 * time.Second
	}
	return Retry{Limiter: limiter, Retries: retries, MaxWait: maxWait, Who: who}
}

// Do makes tries of call, each paced, until one succeeds, and returns how many it made.
// After a failure, wait says whether to retry and after how long (try counts from 0); the
// failure is final when it says not to, when the retries are used up, when the wait would
// pass MaxWait, or when ctx is done: Do then calls failed with the tries made and the
// error, and returns the error. A pacing or waiting error that ctx causes is returned as it
// is, without failed.
func (r Retry) Do(ctx context.Context, call func() error, wait func(err error, try int) (time.Duration, bool),
	failed func(tries int, err error)) (int, error) {
	for try := 0; ; try++ {
		if err := Pace(ctx, r.Limiter, r.Who); err != nil {
			return try, err
		}
		err := call()
		if err == nil {
			return try + 1, nil
		}
		d, retryable := wait(err, try)
		if !retryable || try >= r.Retries || d > r.MaxWait || ctx.Err() != nil {
			failed(try+1, err)
			return try + 1, err
		}
		if err := Sleep(ctx, d); err != nil {
			return try + 1, err
		}
	}
}

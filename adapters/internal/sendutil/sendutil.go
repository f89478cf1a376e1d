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

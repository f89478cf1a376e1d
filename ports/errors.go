package ports

import "errors"

// Errors of stores and limiters that are not outcomes of one port. What every adapter
// returns:
//
//   - an outcome the domain expects (nothing stored, already stored, a lease lost) is the
//     port's sentinel, as is or wrapped, so that errors.Is matches: ErrNoCode,
//     ErrPersonRequestNotFound, ErrProcessExists, ErrResetRequestOpen, ...;
//   - an error of an update function (Update(ctx, id, fn)) comes back as fn returned it;
//   - any other failure is its cause, wrapped (fmt.Errorf with %w), never a
//     *verifykit.Error: messages for people come from the domain, which answers a store
//     failure with a kind and a message of its own (KindUnavailable, or KindInvalidInput for
//     ErrInvalidText). An adapter that can tell that trying again may cure the failure (a
//     lost connection, a timeout, a failover) wraps ErrUnavailable as well; a done context
//     is its error (context.Canceled, context.DeadlineExceeded), wrapped or not.
//
// The conformance suites of ports/porttest check the sentinels with errors.Is, and that
// no store answers a *verifykit.Error of its own.
var (
	// ErrUnavailable marks a failure of a store or limiter that trying again may cure.
	ErrUnavailable = errors.New("store unavailable")
	// ErrInvalidText marks a value a store cannot hold: a PostgreSQL text or jsonb value
	// holds neither a NUL character nor invalid UTF-8. Nothing is stored.
	ErrInvalidText = errors.New("value cannot be stored: not valid text")
	// ErrBadRateLimit is returned by RateLimiter.Allow and Peek for a limit whose Max or Per
	// is not positive (see LongestPer).
	ErrBadRateLimit = errors.New("a rate limit needs a positive Max and Per")
)

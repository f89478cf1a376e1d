// Package httpstatus maps the kinds of verifykit errors to HTTP, once for every adapter
// that answers HTTP (adapters/httpapi, adapters/console): the status code and the error
// type of the API's error body, and the Retry-After of a rate limit.
package httpstatus

import (
	"net/http"
	"time"

	"github.com/verifykit/verifykit"
)

// Of returns the HTTP status and the error type of the API's error body for kind k;
// 500 "internal_error" for KindInternal, KindNone and kinds it does not know.
func Of(k verifykit.Kind) (int, string) {
	switch k {
	case verifykit.KindInvalidInput:
		return http.StatusUnprocessableEntity, "validation_failed"
	case verifykit.KindBadRequest:
		return http.StatusBadRequest, "bad_request"
	case verifykit.KindUnauthorized:
		return http.StatusUnauthorized, "access_denied"
	case verifykit.KindForbidden:
		return http.StatusForbidden, "forbidden"
	case verifykit.KindNotFound:
		return http.StatusNotFound, "not_found"
	case verifykit.KindConflict:
		return http.StatusConflict, "request_conflict"
	case verifykit.KindRateLimited:
		return http.StatusTooManyRequests, "rate_limited"
	case verifykit.KindUnavailable:
		return http.StatusServiceUnavailable, "unavailable"
	default:
		return http.StatusInternalServerError, "internal_error"
	}
}

// RetryAfterSeconds is d in whole seconds, rounded up, as a Retry-After header holds it.
func RetryAfterSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

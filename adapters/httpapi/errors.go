package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/httpstatus"
)

// errorBody is the error answer of every route:
//
//	{"meta":{"code":422,"request_id":"..."},
//	 "error":{"type":"validation_failed","message":"...","invalid":[...]}}
type errorBody struct {
	Meta  meta        `json:"meta"`
	Error errorDetail `json:"error"`
}

type meta struct {
	Code      int    `json:"code"`
	URL       string `json:"url,omitempty"`
	Type      string `json:"type,omitempty"`
	RequestID string `json:"request_id"`
}

type errorDetail struct {
	Type    string         `json:"type"`
	Message string         `json:"message"`
	Invalid []invalidEntry `json:"invalid,omitempty"`
}

type invalidEntry struct {
	EntryType string `json:"entry_type"`
	Entry     string `json:"entry"`
	Rules     []rule `json:"rules"`
}

type rule struct {
	Rule        string `json:"rule"`
	Description string `json:"description"`
}

// status returns the HTTP status and error type of kind k (httpstatus.Of).
func status(k verifykit.Kind) (int, string) { return httpstatus.Of(k) }

// httpError is an error answer that no domain kind describes (413, 415, 405).
type httpError struct {
	status  int
	typ     string
	message string
	invalid []verifykit.InvalidEntry
}

func (e *httpError) Error() string { return e.message }

// writeError answers err in the error body. Errors that are not *verifykit.Error are bugs
// or failures nobody classified: they answer 500 with a generic message and are logged.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code, typ, msg := http.StatusInternalServerError, "internal_error", "Internal server error."
	var entries []verifykit.InvalidEntry
	var he *httpError
	var ve *verifykit.Error
	switch {
	case errors.As(err, &he):
		code, typ, msg, entries = he.status, he.typ, he.message, he.invalid
	case errors.As(err, &ve) && verifykit.KindOf(ve) != verifykit.KindInternal:
		code, typ = status(ve.Kind)
		msg, entries = ve.Message, ve.Invalid
		if ve.Kind == verifykit.KindRateLimited && ve.RetryAfter > 0 {
			secs := httpstatus.RetryAfterSeconds(ve.RetryAfter)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		}
		if ve.Kind == verifykit.KindUnavailable {
			h.log.LogAttrs(r.Context(), levelWarn, "dependency unavailable",
				attrRequestID(r), attrError(err))
		}
	default:
		h.log.LogAttrs(r.Context(), levelError, "unclassified error", attrRequestID(r), attrError(err))
	}
	body := errorBody{
		Meta:  meta{Code: code, RequestID: requestID(r.Context())},
		Error: errorDetail{Type: typ, Message: msg},
	}
	for _, e := range entries {
		entryType := e.EntryType
		if entryType == "" {
			entryType = verifykit.EntryJSONProperty
		}
		body.Error.Invalid = append(body.Error.Invalid, invalidEntry{
			EntryType: entryType,
			Entry:     e.Entry,
			Rules:     []rule{{Rule: e.Rule, Description: e.Description}},
		})
	}
	writeJSON(w, code, body)
}

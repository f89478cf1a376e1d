package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit/internal/logid"
)

const (
	levelWarn  = slog.LevelWarn
	levelError = slog.LevelError
)

type requestIDKey struct{}

// requestID returns the request id that middleware put in ctx.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// validRequestID accepts a caller's X-Request-ID only when it is short and plain, so it can
// be logged and echoed safely.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func attrRequestID(r *http.Request) slog.Attr {
	return slog.String("request_id", requestID(r.Context()))
}

// attrError logs an error's text bounded (logid.Text): a store's or a dependency's error
// may quote what the caller sent.
func attrError(err error) slog.Attr { return logid.TextAttr("error", err.Error()) }

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// ServeHTTP gives every request an id, recovers from panics, answers unknown routes and
// wrong methods in the error body, and logs one line per request: method, route pattern,
// status, duration and request id — never tokens, codes, phone or document numbers. The
// route pattern is logged, not the path, so ids in paths stay out of the request line; the
// domain services log the ids a request names only through internal/logid, which keeps an
// id of at most 64 plain characters and replaces any other by a marker with its length. The
// caller's X-Request-ID is kept only when it is short and plain, and the method, which a
// caller also chooses, is logged through logid too, so no line grows with the request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	// "X-Request-Id" is the canonical form net/http keeps header names in: written so, the
	// name needs no canonicalizing (and no allocation) on every request.
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = uuid.NewString()
	}
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	w.Header().Set("X-Request-Id", id)
	rec := &statusRecorder{ResponseWriter: w}

	route, pattern := h.mux.Handler(r)
	if h.tracing != nil {
		ctx, end := h.tracing.StartRequest(rec, r, pattern, id)
		r = r.WithContext(ctx)
		defer func() { end(rec.status) }() // after the request's log line, inside the span
	}
	defer func() {
		if p := recover(); p != nil {
			h.log.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
				logid.Attr("method", r.Method), slog.String("route", pattern), slog.String("request_id", id),
				logid.TextAttr("panic", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			if rec.status == 0 {
				h.writeError(rec, r, &httpError{status: http.StatusInternalServerError, typ: "internal_error", message: "Internal server error."})
			}
		}
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			logid.Attr("method", r.Method), slog.String("route", pattern), slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(started)), slog.String("request_id", id))
	}()
	if pattern == "" {
		h.serveNoRoute(rec, r, route)
		return
	}
	h.mux.ServeHTTP(rec, r) // the mux, not route: it also fills in the path values
}

// serveNoRoute runs the mux's own 404/405 handler to learn which it is (and the Allow
// header), then answers in the error body.
func (h *Handler) serveNoRoute(w http.ResponseWriter, r *http.Request, route http.Handler) {
	probe := &headerProbe{header: http.Header{}}
	route.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	if probe.status == http.StatusMethodNotAllowed {
		h.writeError(w, r, &httpError{status: http.StatusMethodNotAllowed, typ: "method_not_allowed",
			message: "The method " + r.Method + " is not allowed on this route."})
		return
	}
	h.writeError(w, r, &httpError{status: http.StatusNotFound, typ: "not_found", message: "No route matches this path."})
}

// headerProbe is a ResponseWriter that keeps the status and headers and drops the body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

// writeJSON writes v as JSON with the given status: through its own appendJSON when it
// is a jsonAppender, else with encoding/json (the same bytes either way).
func writeJSON(w http.ResponseWriter, code int, v any) {
	if a, ok := v.(jsonAppender); ok {
		if b, ok := a.appendJSON(make([]byte, 0, 1024)); ok {
			writeBody(w, code, append(b, '\n'))
			return
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"meta":{"code":500},"error":{"type":"internal_error","message":"Internal server error."}}` + "\n")
	}
	writeBody(w, code, buf.Bytes())
}

// writeAppender is writeJSON for a jsonAppender, written into a buffer of the Handler's
// pool (the ResponseWriter copies what it is given, as every io.Writer must).
func (h *Handler) writeAppender(w http.ResponseWriter, code int, a jsonAppender) {
	bp, _ := h.answers.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b, ok := a.appendJSON((*bp)[:0])
	if ok {
		writeBody(w, code, append(b, '\n'))
	} else {
		writeJSON(w, code, a)
	}
	if cap(b) <= maxPooledBody {
		*bp = b[:0]
		h.answers.Put(bp)
	}
}

// writeBody writes a JSON body with the given status.
func writeBody(w http.ResponseWriter, code int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

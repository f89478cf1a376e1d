package otel

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/verifykit/verifykit/adapters/httpapi"
)

// HTTPTracing is the httpapi.Tracing of OpenTelemetry: a server span per request, named
// by the route pattern ("POST /api/person_requests/{id}/actions/resend_auth_method"), that
// continues the caller's W3C trace context (traceparent, tracestate) and answers it in the
// response's headers, with the attributes http.request.method, http.route,
// http.response.status_code and verifykit.request_id; a 5xx answer sets the status Error.
// Its LogHandler adds trace_id and span_id to the Handler's log lines. Set it as
// httpapi.Options.Tracing.
type HTTPTracing struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

var _ httpapi.Tracing = (*HTTPTracing)(nil)

// NewHTTPTracing returns the tracing of the TracerProvider of opts (its MeterProvider is
// not used), propagating the W3C trace context.
func NewHTTPTracing(opts Options) *HTTPTracing {
	return &HTTPTracing{tracer: opts.tracer(), propagator: propagation.TraceContext{}}
}

// StartRequest starts the server span of r; see httpapi.Tracing.
func (t *HTTPTracing) StartRequest(w http.ResponseWriter, r *http.Request, route, requestID string) (context.Context, func(status int)) {
	ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	method := httpMethod(r.Method)
	name := route
	attrs := []attribute.KeyValue{attribute.String("http.request.method", method), AttrRequestID.String(requestID)}
	if route == "" {
		name = method
	} else {
		_, path, _ := strings.Cut(route, " ")
		attrs = append(attrs, attribute.String("http.route", path))
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
	t.propagator.Inject(ctx, propagation.HeaderCarrier(w.Header()))
	return ctx, func(status int) {
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		span.End()
	}
}

// LogHandler returns NewLogHandler(h).
func (t *HTTPTracing) LogHandler(h slog.Handler) slog.Handler { return NewLogHandler(h) }

// httpMethod is m when it is a method of RFC 9110 or PATCH, "_OTHER" otherwise (a caller
// chooses the method: it is recorded only when it is a known one).
func httpMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// NewLogHandler returns a slog.Handler that passes every record to h, with trace_id and
// span_id (hexadecimal, as W3C traceparent writes them) added when the record's context
// carries a valid span context. Log with the context (LogAttrs(ctx, ...), InfoContext):
// verifykit's services and httpapi do.
func NewLogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ inner slog.Handler }

func (l logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.inner.Enabled(ctx, level)
}

func (l logHandler) Handle(ctx context.Context, rec slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		rec = rec.Clone()
		rec.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.inner.Handle(ctx, rec)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.inner.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.inner.WithGroup(name)} }

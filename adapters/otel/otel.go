// Package otel implements verifykit's instrumentation interfaces with OpenTelemetry: a
// ports.Observer for the services (Observer), an httpapi.Tracing for the HTTP adapter
// (HTTPTracing), and a slog.Handler that adds trace_id and span_id to log lines
// (NewLogHandler). It uses the OpenTelemetry API only: the host passes its TracerProvider
// and MeterProvider (built with the SDK and the exporters it chose); nothing here touches
// OpenTelemetry's global providers.
//
// Spans. One per use case, named "verifykit.<flow>.<use case>"
// ("verifykit.personrequest.ResendAuthMethod"), with the attributes verifykit.flow,
// verifykit.operation, verifykit.outcome ("ok" or "error"), error.type (the error's kind,
// verifykit.KindOf: "not_found", "rate_limited", ...), verifykit.code.failure_reason when
// a code check failed, and verifykit.org_id when the request names an organisation. Each
// call the use case makes to a port is a child span named "verifykit.<port>.<method>"
// ("verifykit.store.Update", "verifykit.limiter.Allow", "verifykit.limiter.DecideRates",
// "verifykit.sender.Send", "verifykit.tokens.VerifyToken",
// "verifykit.uploads.SignUploadURL") with verifykit.port and verifykit.resource (the
// store's aggregate or the sender's channel). An error sets
// the span's status to Error with the fixed description "verifykit: <kind>"; the error's
// text is never recorded, since it may quote what a caller sent.
//
// Metrics (meter "github.com/verifykit/verifykit"):
//
//	verifykit.operation.duration  histogram, s   verifykit.flow, verifykit.operation, verifykit.outcome, error.type
//	verifykit.codes.issued        counter        verifykit.code.purpose
//	verifykit.codes.verified      counter        verifykit.code.purpose
//	verifykit.codes.failed        counter        verifykit.code.purpose, verifykit.code.failure_reason
//	verifykit.messages.sent       counter        verifykit.channel, verifykit.outcome (sent, transient, permanent, interrupted)
//	verifykit.delivery.duration   histogram, s   verifykit.channel, verifykit.outcome (one try of a sender)
//	verifykit.rate_limit.refusals counter        verifykit.limit ("otp:send", "otp:failures", ...)
//
// Nothing personal is recorded: no code, token, phone number, e-mail address or document
// number reaches an attribute, an event or a metric label. Only fixed names, error kinds
// and organisation ids (kept when short and plain, like the request ids of httpapi) do.
package otel

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/verifykit/verifykit"

// Attribute keys.
const (
	AttrFlow          = attribute.Key("verifykit.flow")
	AttrOperation     = attribute.Key("verifykit.operation")
	AttrPort          = attribute.Key("verifykit.port")
	AttrResource      = attribute.Key("verifykit.resource")
	AttrOutcome       = attribute.Key("verifykit.outcome")
	AttrErrorType     = attribute.Key("error.type")
	AttrOrgID         = attribute.Key("verifykit.org_id")
	AttrCodePurpose   = attribute.Key("verifykit.code.purpose")
	AttrFailureReason = attribute.Key("verifykit.code.failure_reason")
	AttrChannel       = attribute.Key("verifykit.channel")
	AttrLimit         = attribute.Key("verifykit.limit")
	AttrRequestID     = attribute.Key("verifykit.request_id")
)

// Options are what New and NewHTTPTracing need from the host.
type Options struct {
	// TracerProvider makes the tracer. Default: one that records nothing.
	TracerProvider trace.TracerProvider
	// MeterProvider makes the meter. Default: one that records nothing.
	MeterProvider metric.MeterProvider
}

func (o Options) tracer() trace.Tracer {
	tp := o.TracerProvider
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	return tp.Tracer(ScopeName)
}

func (o Options) meter() metric.Meter {
	mp := o.MeterProvider
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	return mp.Meter(ScopeName)
}

// durationBuckets are the bucket boundaries of the duration histograms, in seconds.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Observer is a ports.Observer that records spans and metrics with OpenTelemetry. Give the
// same Observer to every service's Deps. It is safe for concurrent use.
type Observer struct {
	tracer trace.Tracer

	opDuration       metric.Float64Histogram
	codesIssued      metric.Int64Counter
	codesVerified    metric.Int64Counter
	codesFailed      metric.Int64Counter
	messagesSent     metric.Int64Counter
	deliveryDuration metric.Float64Histogram
	rateLimited      metric.Int64Counter
	abusePauses      metric.Int64Counter

	mu  sync.RWMutex
	ops map[opKey]*opInfo
}

var _ ports.Observer = (*Observer)(nil)

// New returns an Observer on the providers of opts.
func New(opts Options) (*Observer, error) {
	m := opts.meter()
	o := &Observer{tracer: opts.tracer(), ops: map[opKey]*opInfo{}}
	var err error
	hist := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var h metric.Float64Histogram
		h, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		return h
	}
	counter := func(name, unit, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var c metric.Int64Counter
		c, err = m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		return c
	}
	o.opDuration = hist("verifykit.operation.duration", "Duration of verifykit use cases.")
	o.codesIssued = counter("verifykit.codes.issued", "{code}", "One-time codes issued.")
	o.codesVerified = counter("verifykit.codes.verified", "{code}", "One-time codes verified.")
	o.codesFailed = counter("verifykit.codes.failed", "{attempt}", "Failed checks of one-time codes, by reason.")
	o.messagesSent = counter("verifykit.messages.sent", "{message}", "Sender calls, by channel and outcome.")
	o.deliveryDuration = hist("verifykit.delivery.duration", "Duration of sender calls, by channel and outcome.")
	o.rateLimited = counter("verifykit.rate_limit.refusals", "{refusal}", "Rate-limit refusals, by limit.")
	o.abusePauses = counter("verifykit.abuse.pauses", "{pause}", "Sends paused by an abuse guard (the pumping guard), by guard.")
	if err != nil {
		return nil, err
	}
	return o, nil
}

// opKey identifies an operation, without its organisation.
type opKey struct{ flow, name, port, resource string }

// opInfo is what every span of an operation shares.
type opInfo struct {
	name    string
	kind    trace.SpanKind
	attrs   []attribute.KeyValue
	useCase bool
	flow    attribute.KeyValue
	oper    attribute.KeyValue
}

func (o *Observer) info(op ports.Operation) *opInfo {
	k := opKey{op.Flow, op.Name, op.Port, op.Resource}
	o.mu.RLock()
	in := o.ops[k]
	o.mu.RUnlock()
	if in != nil {
		return in
	}
	in = &opInfo{flow: AttrFlow.String(op.Flow), oper: AttrOperation.String(op.Name)}
	in.attrs = []attribute.KeyValue{in.flow, in.oper}
	if op.Port == "" {
		in.name, in.kind, in.useCase = "verifykit."+op.Flow+"."+op.Name, trace.SpanKindInternal, true
	} else {
		in.name, in.kind = "verifykit."+op.Port+"."+op.Name, trace.SpanKindClient
		in.attrs = append(in.attrs, AttrPort.String(op.Port))
		if op.Resource != "" {
			in.attrs = append(in.attrs, AttrResource.String(op.Resource))
		}
	}
	o.mu.Lock()
	if prev := o.ops[k]; prev != nil {
		in = prev
	} else {
		o.ops[k] = in
	}
	o.mu.Unlock()
	return in
}

// Start starts the span of op, a child of the span in ctx.
func (o *Observer) Start(ctx context.Context, op ports.Operation) (context.Context, ports.End) {
	in := o.info(op)
	ctx, span := o.tracer.Start(ctx, in.name, trace.WithSpanKind(in.kind), trace.WithAttributes(in.attrs...))
	if op.OrgID != "" {
		span.SetAttributes(AttrOrgID.String(plainID(op.OrgID)))
	}
	started := time.Now()
	return ctx, func(err error) { o.end(ctx, span, in, started, err) }
}

// end ends span with the outcome err, and records the use case's duration.
func (o *Observer) end(ctx context.Context, span trace.Span, in *opInfo, started time.Time, err error) {
	outcome := AttrOutcome.String("ok")
	var kind attribute.KeyValue
	if err != nil {
		outcome = AttrOutcome.String("error")
		kind = AttrErrorType.String(verifykit.KindOf(err).String())
		span.SetAttributes(kind)
		if reason := otp.FailureReason(err); reason != "" {
			span.SetAttributes(AttrFailureReason.String(reason))
		}
		span.SetStatus(codes.Error, "verifykit: "+kind.Value.AsString())
	}
	span.SetAttributes(outcome)
	span.End()
	if !in.useCase {
		return
	}
	attrs := []attribute.KeyValue{in.flow, in.oper, outcome}
	if err != nil {
		attrs = append(attrs, kind)
	}
	o.opDuration.Record(ctx, time.Since(started).Seconds(), metric.WithAttributes(attrs...))
}

// Event counts e.
func (o *Observer) Event(ctx context.Context, e ports.Event) {
	switch e.Kind {
	case ports.EventCodeIssued:
		o.codesIssued.Add(ctx, 1, metric.WithAttributes(AttrCodePurpose.String(e.Purpose)))
	case ports.EventCodeVerified:
		o.codesVerified.Add(ctx, 1, metric.WithAttributes(AttrCodePurpose.String(e.Purpose)))
	case ports.EventCodeFailed:
		o.codesFailed.Add(ctx, 1, metric.WithAttributes(AttrCodePurpose.String(e.Purpose), AttrFailureReason.String(e.Reason)))
	case ports.EventMessageSent:
		attrs := metric.WithAttributes(AttrChannel.String(e.Channel), AttrOutcome.String(e.Outcome))
		o.messagesSent.Add(ctx, 1, attrs)
		o.deliveryDuration.Record(ctx, e.Duration.Seconds(), attrs)
	case ports.EventRateLimited:
		o.rateLimited.Add(ctx, 1, metric.WithAttributes(AttrLimit.String(e.Limit)))
	case ports.EventAbusePaused:
		o.abusePauses.Add(ctx, 1, metric.WithAttributes(AttrLimit.String(e.Limit)))
	}
}

// plainID returns id when it is at most 64 letters, digits, '-', '_' or '.', and
// "invalid" otherwise: an organisation id comes from the request's path, and what a
// caller sends is recorded only when it cannot carry anything else.
func plainID(id string) string {
	if len(id) > 64 {
		return "invalid"
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "invalid"
		}
	}
	return id
}

package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/proto"
)

func TestOTelModeReadsTheStandardVariables(t *testing.T) {
	tests := []struct {
		name            string
		flag            string
		env             map[string]string
		traces, metrics otelExporter
		wantErr         string
	}{
		{name: "nothing set: off", traces: exportNone, metrics: exportNone},
		{name: "flag stdout", flag: "stdout", traces: exportStdout, metrics: exportStdout},
		{name: "flag otlp", flag: "otlp", traces: exportOTLP, metrics: exportOTLP},
		{name: "flag off wins over the environment", flag: "off", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
		{name: "unknown flag", flag: "jaeger", wantErr: `-otel "jaeger"`},
		{name: "an OTLP endpoint switches both signals on", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, traces: exportOTLP, metrics: exportOTLP},
		{name: "a traces endpoint switches traces on only", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, traces: exportOTLP, metrics: exportNone},
		{name: "exporter variables per signal", env: map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "otlp"}, traces: exportStdout, metrics: exportOTLP},
		{name: "none beats an endpoint", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_METRICS_EXPORTER": "none"}, traces: exportOTLP, metrics: exportNone},
		{name: "http/protobuf is accepted", flag: "otlp", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}, traces: exportOTLP, metrics: exportOTLP},
		{name: "grpc is refused", flag: "otlp", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, wantErr: `OTEL_EXPORTER_OTLP_PROTOCOL="grpc"`},
		{name: "a per-signal protocol is read first", flag: "otlp", env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, wantErr: `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL="http/json"`},
		{name: "the protocol of a signal that is off does not matter", env: map[string]string{"OTEL_TRACES_EXPORTER": "console", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, traces: exportStdout, metrics: exportNone},
		{name: "unknown exporter", env: map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, wantErr: `OTEL_TRACES_EXPORTER="zipkin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			traces, metrics, err := otelMode(tt.flag, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.traces, traces, "traces")
			require.Equal(t, tt.metrics, metrics, "metrics")
		})
	}
}

// otlpReceiver is a collector's OTLP/HTTP endpoint as the OTLP specification describes
// it: POST /v1/traces and /v1/metrics with protobuf bodies (gzip when the exporter
// compresses), answered with the protobuf Export*ServiceResponse.
type otlpReceiver struct {
	mu      sync.Mutex
	traces  []*coltracepb.ExportTraceServiceRequest
	metrics []*colmetricpb.ExportMetricsServiceRequest
	headers []http.Header
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want POST application/x-protobuf", http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req, res proto.Message
	switch r.URL.Path {
	case "/v1/traces":
		req, res = &coltracepb.ExportTraceServiceRequest{}, &coltracepb.ExportTraceServiceResponse{}
	case "/v1/metrics":
		req, res = &colmetricpb.ExportMetricsServiceRequest{}, &colmetricpb.ExportMetricsServiceResponse{}
	default:
		http.NotFound(w, r)
		return
	}
	if err := proto.Unmarshal(raw, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	switch req := req.(type) {
	case *coltracepb.ExportTraceServiceRequest:
		o.traces = append(o.traces, req)
	case *colmetricpb.ExportMetricsServiceRequest:
		o.metrics = append(o.metrics, req)
	}
	o.headers = append(o.headers, r.Header.Clone())
	o.mu.Unlock()
	out, err := proto.Marshal(res)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// strings returns every string the receiver got in attributes (resource, scope, span,
// span event, data point) and span names, and the span and metric names seen.
func (o *otlpReceiver) recorded() (values []string, spans, metrics map[string]bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	spans, metrics = map[string]bool{}, map[string]bool{}
	var attrs func(kvs []*commonpb.KeyValue)
	var value func(v *commonpb.AnyValue)
	value = func(v *commonpb.AnyValue) {
		switch {
		case v.GetArrayValue() != nil:
			for _, e := range v.GetArrayValue().GetValues() {
				value(e)
			}
		case v.GetKvlistValue() != nil:
			attrs(v.GetKvlistValue().GetValues())
		default:
			values = append(values, v.GetStringValue(), string(v.GetBytesValue()))
		}
	}
	attrs = func(kvs []*commonpb.KeyValue) {
		for _, kv := range kvs {
			values = append(values, kv.GetKey())
			value(kv.GetValue())
		}
	}
	for _, req := range o.traces {
		for _, rs := range req.GetResourceSpans() {
			attrs(rs.GetResource().GetAttributes())
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans[s.GetName()] = true
					values = append(values, s.GetName(), s.GetStatus().GetMessage())
					attrs(s.GetAttributes())
					for _, ev := range s.GetEvents() {
						values = append(values, ev.GetName())
						attrs(ev.GetAttributes())
					}
				}
			}
		}
	}
	for _, req := range o.metrics {
		for _, rm := range req.GetResourceMetrics() {
			attrs(rm.GetResource().GetAttributes())
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					metrics[m.GetName()] = true
					for _, dp := range m.GetSum().GetDataPoints() {
						attrs(dp.GetAttributes())
					}
					for _, dp := range m.GetHistogram().GetDataPoints() {
						attrs(dp.GetAttributes())
					}
					for _, dp := range m.GetGauge().GetDataPoints() {
						attrs(dp.GetAttributes())
					}
				}
			}
		}
	}
	return values, spans, metrics
}

// TestServerExportsOverOTLP runs the journeys with only the standard OTEL_* variables set,
// against an OTLP/HTTP receiver: spans and metrics arrive over OTLP, with the headers the
// variables name, and nothing personal is in them.
func TestServerExportsOverOTLP(t *testing.T) {
	recv := &otlpReceiver{}
	collector := httptest.NewServer(recv)
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-tenant=verifykit-tests")
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	t.Setenv("OTEL_SERVICE_NAME", "verifykit-otlp-test")
	for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
		t.Setenv(k, "")
	}

	base, _, stop := startServer(t, "-dev")
	journeys(t, base)
	var codes []string // every code the server sent, read before it stops
	for _, m := range do(t, "GET", base+"/dev/sms", "", "", 200)["messages"].([]any) {
		if c := codeInSMS.FindStringSubmatch(m.(map[string]any)["body"].(string)); c != nil {
			codes = append(codes, c[1])
		}
	}
	require.NotEmpty(t, codes)
	require.NoError(t, stop(), "a clean shutdown flushes the exporters")

	values, spans, metrics := recv.recorded()
	require.NotEmpty(t, recv.traces, "spans arrived over OTLP")
	require.NotEmpty(t, recv.metrics, "metrics arrived over OTLP")
	for _, h := range recv.headers {
		require.Equal(t, "verifykit-tests", h.Get("X-Collector-Tenant"), "OTEL_EXPORTER_OTLP_HEADERS is sent")
		require.Equal(t, "gzip", h.Get("Content-Encoding"), "OTEL_EXPORTER_OTLP_COMPRESSION is honoured")
	}
	require.Contains(t, values, "verifykit-otlp-test", "OTEL_SERVICE_NAME names the resource")
	for _, name := range []string{
		"verifykit.personrequest.ResendAuthMethod",
		"verifykit.personrequest.Approve",
		"POST /api/person_requests/{id}/actions/resend_auth_method",
		"verifykit.store.Update",
	} {
		require.True(t, spans[name], "span %q arrived; got %v", name, spans)
	}
	for _, name := range []string{"verifykit.codes.issued", "verifykit.codes.verified", "verifykit.operation.duration"} {
		require.True(t, metrics[name], "metric %q arrived; got %v", name, metrics)
	}

	secrets := append([]string{phonePetro, phoneOksana, phoneAna, tokRegistrar, tokActor, tokOlena, tokIryna, "X1234567L"}, codes...)
	digits := regexp.MustCompile(`\d{9,}`) // a phone number in any format
	all := strings.Join(values, "\n")
	for _, s := range secrets {
		require.NotContains(t, all, s, "a code, phone, token or document number in the telemetry")
	}
	for _, v := range values {
		require.False(t, digits.MatchString(strings.NewReplacer(" ", "", "-", "").Replace(v)) && !isID(v), "digits that may be a phone: %q", v)
	}
	require.False(t, bytes.Contains([]byte(all), []byte("Bearer")), "no authorization header value")
}

// isID reports whether v is an id the telemetry may carry (trace ids, UUIDs), not a
// phone number.
func isID(v string) bool {
	return regexp.MustCompile(`^[0-9a-f-]{32,36}$`).MatchString(v)
}

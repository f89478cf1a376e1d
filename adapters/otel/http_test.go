package otel_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	vkotel "github.com/verifykit/verifykit/adapters/otel"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// TestHTTPServerSpans: a request runs in a server span named by its route pattern, which
// continues the caller's traceparent and answers it; the use case's span is its child;
// the log lines carry trace_id and span_id.
func TestHTTPServerSpans(t *testing.T) {
	k := newKit(t)
	clock, tokens := memory.NewClock(t0), memory.NewTokens()
	tokens.Add("writer-secret", ports.Claims{Scopes: []string{personrequest.ScopeWrite}, ExpiresAt: t0.Add(time.Hour)})
	requests, err := personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: k.codes(t, clock, memory.DiscardSender{}), Tokens: tokens,
		Uploads: memory.NewUploadSigner(), Clock: clock, Observer: k.obs,
	}, personrequest.DefaultConfig())
	require.NoError(t, err)
	var logs bytes.Buffer
	h, err := httpapi.New(httpapi.Services{PersonRequests: requests}, httpapi.Options{
		Logger:  slog.New(slog.NewJSONHandler(&logs, nil)),
		Tracing: vkotel.NewHTTPTracing(vkotel.Options{TracerProvider: k.tp}),
	})
	require.NoError(t, err)

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	serve := func(method, path, body, requestID string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer writer-secret")
		req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
		req.Header.Set("X-Request-ID", requestID)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := serve("POST", "/api/person_requests", `{"person":{"first_name":"Petro","last_name":"Ivanenko",
		"documents":[{"type":"BIRTH_CERTIFICATE","number":"I-AB 123456"}],
		"authentication_methods":[{"type":"OTP","alias":"own phone","phone_number":"+380931234585","is_primary":true}]}}`, "req-create")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var out struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	clock.Advance(time.Minute)
	logs.Reset()
	rec = serve("POST", "/api/person_requests/"+out.Data.ID+"/actions/resend_auth_method", "", "req-resend")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	server := k.span(t, "POST /api/person_requests/{id}/actions/resend_auth_method")
	require.Equal(t, trace.SpanKindServer, server.SpanKind())
	require.Equal(t, traceID, server.SpanContext().TraceID().String())
	require.Equal(t, parentID, server.Parent().SpanID().String())
	require.True(t, server.Parent().IsRemote())
	require.Equal(t, "req-resend", attrOf(server, vkotel.AttrRequestID))
	require.Equal(t, "/api/person_requests/{id}/actions/resend_auth_method", attrOf(server, "http.route"))
	require.Equal(t, "200", attrOf(server, "http.response.status_code"))
	require.NotContains(t, server.Name(), out.Data.ID)

	useCase := k.span(t, "verifykit.personrequest.ResendAuthMethod")
	require.Equal(t, server.SpanContext().SpanID(), useCase.Parent().SpanID())

	require.Equal(t, "00-"+traceID+"-"+server.SpanContext().SpanID().String()+"-01", rec.Header().Get("traceparent"))

	line := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line), logs.String())
	require.Equal(t, traceID, line["trace_id"])
	require.Equal(t, server.SpanContext().SpanID().String(), line["span_id"])

	// No route: the span is named by the method only; the raw path is nowhere.
	rec = serve("GET", "/no/such/+380931234585", "", "req-none")
	require.Equal(t, http.StatusNotFound, rec.Code)
	none := k.span(t, "GET")
	require.Equal(t, "404", attrOf(none, "http.response.status_code"))
	require.Equal(t, codes.Unset, none.Status().Code)
	for _, s := range k.recorded(t) {
		require.NotContains(t, s, "+380931234585")
		require.NotContains(t, s, "writer-secret")
	}
}

package otel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	vkotel "github.com/verifykit/verifykit/adapters/otel"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// The benchmarks here are otp's BenchmarkVerify and httpapi's BenchmarkHTTPResendAuthMethod
// twice: "noop" with no Observer (the services' default) and "otel" with the OpenTelemetry
// adapter on a recording SDK (every span sampled and recorded, metrics aggregated by a
// manual reader; nothing exported).

// benchObservers are the two set-ups: the default, and OpenTelemetry on a recording SDK.
func benchObservers(b *testing.B) []struct {
	name    string
	obs     ports.Observer
	tracing httpapi.Tracing
} {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	opts := vkotel.Options{TracerProvider: tp, MeterProvider: mp}
	obs, err := vkotel.New(opts)
	require.NoError(b, err)
	return []struct {
		name    string
		obs     ports.Observer
		tracing httpapi.Tracing
	}{
		{"noop", nil, nil},
		{"otel", obs, vkotel.NewHTTPTracing(opts)},
	}
}

// BenchmarkVerify is otp's BenchmarkVerify: verifying a right code, codes issued off the
// clock 8192 at a time.
func BenchmarkVerify(b *testing.B) {
	for _, o := range benchObservers(b) {
		b.Run(o.name, func(b *testing.B) {
			clock := memory.NewClock(t0)
			svc := memory.NewTestEngine(b, otp.Deps{SMS: memory.DiscardSender{}, Clock: clock, Observer: o.obs}, func(c *otp.Config) {
				c.Pumping = otp.PumpingGuard{} // thousands of codes to one prefix, none verified
			})
			ctx := context.Background()
			const chunk = 8192
			type pending struct{ subject, code string }
			codes := make([]pending, chunk)
			b.ReportAllocs()
			b.ResetTimer()
			for done := 0; done < b.N; done += chunk {
				b.StopTimer()
				clock.Advance(11 * time.Minute)
				n := min(chunk, b.N-done)
				for i := range n {
					subject := fmt.Sprintf("subject-%d", done+i)
					iss, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: subject})
					if err != nil {
						b.Fatal(err)
					}
					codes[i] = pending{subject, iss.Code}
				}
				b.StartTimer()
				for i := range n {
					if _, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: codes[i].subject, Code: codes[i].code}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkHTTPResendAuthMethod is httpapi's BenchmarkHTTPResendAuthMethod: POST
// /api/person_requests/{id}/actions/resend_auth_method through the Handler, over 1024
// requests with distinct phones, the clock moving a second per resend.
func BenchmarkHTTPResendAuthMethod(b *testing.B) {
	for _, o := range benchObservers(b) {
		b.Run(o.name, func(b *testing.B) {
			const n = 1024
			clock, tokens := memory.NewClock(t0), memory.NewTokens()
			codes := memory.NewTestEngine(b, otp.Deps{SMS: memory.DiscardSender{}, Clock: clock, Observer: o.obs}, func(c *otp.Config) {
				c.Pumping = otp.PumpingGuard{} // thousands of codes to one prefix, none verified
			})
			requests, err := personrequest.NewService(personrequest.Deps{
				Store: memory.NewPersonRequestStore(), OTP: codes, Tokens: tokens, Uploads: memory.NewUploadSigner(), Clock: clock, Observer: o.obs,
			}, personrequest.DefaultConfig())
			require.NoError(b, err)
			h, err := httpapi.New(httpapi.Services{PersonRequests: requests}, httpapi.Options{Tracing: o.tracing})
			require.NoError(b, err)
			tokens.Add("writer", ports.Claims{Scopes: []string{personrequest.ScopeWrite}, ExpiresAt: t0.Add(100 * 365 * 24 * time.Hour)})
			do := func(method, path, body string, want int) []byte {
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer writer")
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != want {
					b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
				}
				return rec.Body.Bytes()
			}
			paths := make([]string, n)
			for i := range paths {
				body := do("POST", "/api/person_requests", fmt.Sprintf(`{"person":{"first_name":"Petro","last_name":"Ivanenko",
					"documents":[{"type":"BIRTH_CERTIFICATE","number":"I-AB 123456"}],
					"authentication_methods":[{"type":"OTP","alias":"own phone","phone_number":"+38093%07d","is_primary":true}]}}`, i), 201)
				var out struct {
					Data struct {
						ID string `json:"id"`
					} `json:"data"`
				}
				require.NoError(b, json.Unmarshal(body, &out))
				paths[i] = "/api/person_requests/" + out.Data.ID + "/actions/resend_auth_method"
			}
			clock.Advance(time.Hour)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				clock.Advance(time.Second)
				do("POST", paths[i%n], "", http.StatusOK)
				i++
			}
		})
	}
}

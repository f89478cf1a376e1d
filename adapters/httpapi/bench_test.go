package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// benchKit is a Handler on the memory adapters with a discarding SMS sender and a clock
// the benchmark moves, so that the otp engine's default send limits never refuse.
type benchKit struct {
	h      *httpapi.Handler
	clock  *memory.Clock
	tokens *memory.Tokens
}

func newBenchKit(b *testing.B) *benchKit {
	k := &benchKit{clock: memory.NewClock(t0), tokens: memory.NewTokens()}
	// The benchmarks send thousands of codes to one prefix (the process ones to one actor's
	// phone) and verify few: no pumping guard, no cap on subjects per phone.
	codes := memory.NewTestEngine(b, otp.Deps{SMS: memory.DiscardSender{}, Clock: k.clock}, func(c *otp.Config) {
		c.Pumping, c.MaxSubjectsPerRecipient = otp.PumpingGuard{}, 0
	})
	requests, err := personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: codes, Tokens: k.tokens, Uploads: memory.NewUploadSigner(), Clock: k.clock,
	}, personrequest.DefaultConfig())
	require.NoError(b, err)
	processes, err := otpprocess.NewService(otpprocess.Deps{
		Store: memory.NewProcessStore(), OTP: codes, Tokens: k.tokens, Clock: k.clock,
	}, otpprocess.DefaultConfig())
	require.NoError(b, err)
	k.h, err = httpapi.New(httpapi.Services{PersonRequests: requests, Processes: processes}, httpapi.Options{})
	require.NoError(b, err)
	forever := t0.Add(100 * 365 * 24 * time.Hour)
	k.tokens.Add("writer", ports.Claims{Scopes: []string{personrequest.ScopeWrite}, ExpiresAt: forever})
	k.tokens.Add("admin", ports.Claims{OrgID: "org-a", Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: forever})
	k.tokens.Add("actor", ports.Claims{OrgID: "org-a", Scopes: []string{otpprocess.DefaultActorScope}, ExpiresAt: forever})
	return k
}

// do serves one request and fails the benchmark unless it answers want.
func (k *benchKit) do(b *testing.B, method, path, token, body string, want int) []byte {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	k.h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes()
}

// BenchmarkHTTPResendAuthMethod measures POST /api/person_requests/{id}/actions/resend_auth_method
// through the Handler (routing, token, strict decoding of an empty body, the resend with
// new upload URLs and a new code, the JSON answer) on the memory adapters. It cycles over
// 1024 requests with distinct phones while the clock moves a second per resend, so the
// default send limits (30 s apart, 5 per 10 minutes per phone) never refuse.
func BenchmarkHTTPResendAuthMethod(b *testing.B) {
	const n = 1024
	k := newBenchKit(b)
	paths := make([]string, n)
	for i := range paths {
		body := k.do(b, "POST", prBase, "writer", fmt.Sprintf(`{"person":{"first_name":"Petro","last_name":"Ivanenko",
			"documents":[{"type":"BIRTH_CERTIFICATE","number":"I-AB 123456"}],
			"authentication_methods":[{"type":"OTP","alias":"own phone","phone_number":"+38093%07d","is_primary":true}]}}`, i), 201)
		var out struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		require.NoError(b, json.Unmarshal(body, &out))
		paths[i] = prBase + "/" + out.Data.ID + "/actions/resend_auth_method"
	}
	k.clock.Advance(time.Hour)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k.clock.Advance(time.Second)
		k.do(b, "POST", paths[i%n], "writer", "", http.StatusOK)
		i++
	}
}

// BenchmarkHTTPValidateOTPIdentification measures PUT
// /v1/orgs/{org_id}/identifications/otp/{id}/validate with the right code through the
// Handler on the memory adapters. Each validation uses up its process, so processes are
// created (off the clock) in batches of 1024 with distinct phones, through an external
// channel that answers the code.
func BenchmarkHTTPValidateOTPIdentification(b *testing.B) {
	const n = 1024
	k := newBenchKit(b)
	type target struct{ path, body string }
	batch, made := make([]target, 0, n), 0
	refill := func() {
		batch = batch[:0]
		for range n {
			body := k.do(b, "POST", otpBase, "admin", fmt.Sprintf(`{"actor":{"name":"Ana","msisdn":{"country_code":"34","phone_number":"6%08d"}},
				"channel":{"type":"SMS","external":true}}`, made), 201)
			made++
			var p struct {
				ID   string `json:"id"`
				Code string `json:"code"`
			}
			require.NoError(b, json.Unmarshal(body, &p))
			batch = append(batch, target{otpBase + "/" + p.ID + "/validate", `{"code":"` + p.Code + `"}`})
		}
	}
	refill()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(batch) {
			b.StopTimer()
			refill()
			i = 0
			b.StartTimer()
		}
		k.do(b, "PUT", batch[i].path, "actor", batch[i].body, http.StatusNoContent)
		i++
	}
}

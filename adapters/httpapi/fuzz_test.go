package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// fuzzSeed is one request of the fuzz corpus.
type fuzzSeed struct {
	method, path, contentType, token, body string
}

// seededEnv is a Handler with data behind every route (a person request, the PIS persons,
// a profile, an OTP identification process) and a seed request for each route.
func seededEnv(t testing.TB) (*fullEnv, []fuzzSeed) {
	t.Helper()
	e := newFullHandler(t)
	h := e.handler
	tok := e.registrar()
	call := func(method, path, token, body string) map[string]any {
		rec := serve(h, method, path, token, body)
		require.Less(t, rec.Code, 300, rec.Body.String())
		var out map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		return out
	}
	pr := prBase + "/" + call("POST", prBase, tok, personRequestBody(phonePerson))["data"].(map[string]any)["id"].(string)
	e.addPISData(t)
	e.addProfile(t, "user-7", ports.IdentificationApproved)
	e.token("user", ports.Claims{Subject: "user-7"})
	e.token("operator", ports.Claims{Subject: "op-1", Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	admin, _, _, _ := e.processTokens()
	proc := otpBase + "/" + call("POST", otpBase, admin, processActor("600111222"))["id"].(string)
	const js = "application/json"
	seeds := []fuzzSeed{
		{"GET", "/healthz", "", "", ""},
		{"GET", "/openapi.json", "", "", ""},
		{"POST", prBase, js, tok, personRequestBody("+380930000123")},
		{"GET", pr, "", tok, ""},
		{"POST", pr + "/actions/resend_auth_method", js, tok, `{"alias":"mother"}`},
		{"POST", pr + "/actions/resend_otp", js, tok, `{"type":"OTP"}`},
		{"PATCH", pr + "/actions/approve", js, tok, `{"verification_code":"123456"}`},
		{"PATCH", pr + "/actions/sign", js, tok, `{}`},
		{"PATCH", pr + "/actions/reject", "", tok, ``},
		{"PATCH", pr + "/actions/cancel", js, tok, `{}`},
		{"PATCH", deactivatePath("am-teen"), js, "tok-mother", `{"person_id":"teen"}`},
		{"POST", deactivatePath("am-kid") + "/explain", js, "tok-kid", `{}`},
		{"GET", "/api/v1/profiles/my", "", "user", ""},
		{"PATCH", "/api/v1/profiles/my", js, "user", `{"changes":[{"path":"address.city","value":"Lviv"}]}`},
		{"POST", "/api/v1/profiles/my/reset-identification", js, "user", `{"description":"moved"}`},
		{"POST", "/api/v1/profiles/view-reset-identification-requests", js, "operator", `{"filter":{"status":"PENDING"},"pageNumber":0,"pageSize":10}`},
		{"POST", "/api/v1/profiles/user-7/reset", js, "operator", `{"fields":["address.city"]}`},
		{"POST", "/api/v1/profiles/user-7/reset-identification-requests/x/approve", "", "operator", ``},
		{"POST", "/api/v1/profiles/my/submit-identification", "", "user", ``},
		{"POST", otpBase, js, admin, processActor("600111333")},
		{"GET", otpBase + "?status=CREATED&limit=2", "", admin, ""},
		{"GET", proc, "", "actor-a", ""},
		{"PUT", proc + "/validate", js, "actor-a", `{"code":"123456","two_factor":"X1234567L"}`},
		{"POST", proc + "/resend", "", admin, ""},
		{"POST", proc + "/cancel", js, admin, `{"reason":"x"}`},
		{"DELETE", proc + "?force=true", "", "boss-a", ""},
		{"TRACE", "/nothing", "text/plain", "", "\xff"},
		{"POST", prBase, js, tok, `{"person":{"documents":[{"number":1e400}]}}`},
	}
	return e, seeds
}

// FuzzHandler sends random methods, paths, headers and bodies (mutated from a request for
// every route) to the whole Handler: no input answers 500 or panics, and every error is
// answered in the error body.
func FuzzHandler(f *testing.F) {
	e, seeds := seededEnv(f)
	for _, s := range seeds {
		f.Add(s.method, s.path, s.contentType, s.token, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, path, contentType, token string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequestWithContext(context.Background(), method, "http://example.test"+path, bytes.NewReader(body))
		if err != nil {
			return // not an HTTP request at all: net/http never hands it to a handler
		}
		req.RequestURI = req.URL.RequestURI()
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		checked(t, e.handler.api).ServeHTTP(rec, req) // checked for t: f's methods cannot be called in the fuzz target
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("%s %q answered 500: %s", method, path, rec.Body.String())
		}
		if rec.Code >= 400 {
			var eb struct {
				Meta struct {
					Code      int    `json:"code"`
					RequestID string `json:"request_id"`
				} `json:"meta"`
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Meta.Code != rec.Code || eb.Error.Type == "" || eb.Error.Message == "" || eb.Meta.RequestID == "" {
				t.Fatalf("%s %q answered %d without the error body: %s", method, path, rec.Code, rec.Body.String())
			}
		}
	})
}

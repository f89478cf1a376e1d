package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
)

type testInner struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}

type testBody struct {
	Name  string      `json:"name"`
	Tags  []string    `json:"tags"`
	Inner testInner   `json:"inner"`
	List  []testInner `json:"list"`
	Flag  *bool       `json:"flag,omitempty"`
	When  time.Time   `json:"when"`
}

// newTestAPI is a Handler with one test-only route, POST /things/{id}, to exercise the
// framework (strict decoding, panics, 405, Retry-After, request ids). It is deliberately not
// served through internal/openapicheck: the route is not part of the public contract that
// openapi.json describes (and openapicheck imports this package, which an internal test
// cannot import back). Every test of the public routes is checked (env_test.go: checked).
func newTestAPI(t *testing.T, logs *bytes.Buffer) *Handler {
	t.Helper()
	a := &Handler{mux: http.NewServeMux(), log: slog.New(slog.NewJSONHandler(logs, nil))}
	a.handle("POST", "/things/{id}", func(w http.ResponseWriter, r *http.Request) error {
		var b testBody
		if err := a.decodeJSON(r, &b, false); err != nil {
			return err
		}
		switch b.Name {
		case "panic":
			panic("boom")
		case "hostile panic", "hostile error":
			v := strings.Repeat("x", 16<<10) + "\n{\"level\":\"ERROR\",\"msg\":\"forged\"}"
			if b.Name == "hostile panic" {
				panic(v)
			}
			return &verifykit.Error{Kind: verifykit.KindUnavailable, Message: "down", Err: errors.New(v)}
		case "limited":
			return &verifykit.Error{Kind: verifykit.KindRateLimited, Message: "slow down", RetryAfter: 1500 * time.Millisecond}
		case "plain":
			return json.Unmarshal([]byte("{"), &b) // an unclassified error
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": r.PathValue("id"), "name": b.Name})
		return nil
	})
	return a
}

type errResp struct {
	Meta  meta        `json:"meta"`
	Error errorDetail `json:"error"`
}

func do(t *testing.T, h http.Handler, method, path, contentType, body string) (*httptest.ResponseRecorder, errResp) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var e errResp
	if rec.Code >= 400 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e), rec.Body.String())
		require.Equal(t, rec.Code, e.Meta.Code)
		require.NotEmpty(t, e.Meta.RequestID)
		require.Equal(t, rec.Header().Get("X-Request-ID"), e.Meta.RequestID)
	}
	return rec, e
}

func TestStrictInput(t *testing.T) {
	var logs bytes.Buffer
	a := newTestAPI(t, &logs)
	const js = "application/json"
	cases := []struct {
		name, method, path, ct, body string
		status                       int
		typ                          string
		entries                      []string
	}{
		{"ok", "POST", "/things/1", js, `{"name":"x"}`, 200, "", nil},
		{"json with charset", "POST", "/things/1", "application/json; charset=utf-8", `{"name":"x"}`, 200, "", nil},
		{"wrong content type", "POST", "/things/1", "text/plain", `{"name":"x"}`, 415, "unsupported_media_type", nil},
		{"no content type", "POST", "/things/1", "", `{"name":"x"}`, 415, "unsupported_media_type", nil},
		{"empty body", "POST", "/things/1", js, ``, 400, "bad_request", nil},
		{"malformed", "POST", "/things/1", js, `{"name":`, 400, "bad_request", nil},
		{"two values", "POST", "/things/1", js, `{} {}`, 400, "bad_request", nil},
		{"not an object", "POST", "/things/1", js, `[1]`, 422, "validation_failed", []string{"$"}},
		{"unknown and wrong types", "POST", "/things/1", js,
			`{"name":1,"tags":["a",2],"inner":{"code":"1","bogus":true,"count":"3"},"list":[{"count":1.5}],"extra":null,"when":"yesterday"}`,
			422, "validation_failed",
			[]string{"$.extra", "$.inner.bogus", "$.inner.count", "$.list[0].count", "$.name", "$.tags[1]", "$.when"}},
		{"field names are exact", "POST", "/things/1", js, `{"Name":"x"}`, 422, "validation_failed", []string{"$.Name"}},
		{"wrong method", "GET", "/things/1", "", "", 405, "method_not_allowed", nil},
		{"unknown route", "POST", "/nothing", js, `{}`, 404, "not_found", nil},
		{"panic", "POST", "/things/1", js, `{"name":"panic"}`, 500, "internal_error", nil},
		{"unclassified error", "POST", "/things/1", js, `{"name":"plain"}`, 500, "internal_error", nil},
		{"too large", "POST", "/things/1", js, `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "request_too_large", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, e := do(t, a, tc.method, tc.path, tc.ct, tc.body)
			require.Equal(t, tc.status, rec.Code, rec.Body.String())
			require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			if tc.status < 400 {
				return
			}
			require.Equal(t, tc.typ, e.Error.Type)
			require.NotEmpty(t, e.Error.Message)
			var entries []string
			for _, in := range e.Error.Invalid {
				entries = append(entries, in.Entry)
				require.Equal(t, "json_data_property", in.EntryType)
				require.Len(t, in.Rules, 1)
			}
			require.Equal(t, tc.entries, entries)
		})
	}
	require.Contains(t, logs.String(), "panic serving request")
	require.Contains(t, logs.String(), `"route":"POST /things/{id}"`)
}

// TestHostileFailuresAreLoggedBounded: a panic value or a dependency's error that carries
// what a caller sent (16 kB and a forged JSON log line) is logged cut and without its
// control characters.
func TestHostileFailuresAreLoggedBounded(t *testing.T) {
	for _, name := range []string{"hostile panic", "hostile error"} {
		var logs bytes.Buffer
		a := newTestAPI(t, &logs)
		rec, _ := do(t, a, "POST", "/things/1", "application/json", `{"name":"`+name+`"}`)
		require.GreaterOrEqual(t, rec.Code, 500)
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), "one JSON record per line")
			require.NotEqual(t, "forged", rec["msg"])
			for k, v := range rec {
				if k != "stack" {
					require.LessOrEqual(t, len(fmt.Sprint(v)), 600, "%s: %s is bounded", name, k)
				}
			}
		}
		require.Contains(t, logs.String(), "bytes]", name)
	}
}

func TestWrongMethodNamesAllowed(t *testing.T) {
	a := newTestAPI(t, &bytes.Buffer{})
	rec, _ := do(t, a, "DELETE", "/things/1", "", "")
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.Equal(t, "POST", rec.Header().Get("Allow"))
}

func TestRetryAfterIsWholeSecondsRoundedUp(t *testing.T) {
	a := newTestAPI(t, &bytes.Buffer{})
	rec, e := do(t, a, "POST", "/things/1", "application/json", `{"name":"limited"}`)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "2", rec.Header().Get("Retry-After"))
	require.Equal(t, "rate_limited", e.Error.Type)
	require.Equal(t, "slow down", e.Error.Message)
}

func TestRequestID(t *testing.T) {
	a := newTestAPI(t, &bytes.Buffer{})
	req := httptest.NewRequest("POST", "/nothing", nil)
	req.Header.Set("X-Request-ID", "abc-123")
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	require.Equal(t, "abc-123", rec.Header().Get("X-Request-ID"))
	require.Contains(t, rec.Body.String(), `"request_id":"abc-123"`)

	req = httptest.NewRequest("POST", "/nothing", nil)
	req.Header.Set("X-Request-ID", "bad id\nwith newline")
	rec = httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	fresh := rec.Header().Get("X-Request-ID")
	_, err := uuid.Parse(fresh)
	require.NoError(t, err, "a fresh uuid replaces an unsafe id, got %q", fresh)
	require.Contains(t, rec.Body.String(), `"request_id":"`+fresh+`"`)
}

func TestKindsMapToStatuses(t *testing.T) {
	want := map[verifykit.Kind]int{
		verifykit.KindInvalidInput: 422, verifykit.KindBadRequest: 400, verifykit.KindUnauthorized: 401,
		verifykit.KindForbidden: 403, verifykit.KindNotFound: 404, verifykit.KindConflict: 409,
		verifykit.KindRateLimited: 429, verifykit.KindUnavailable: 503, verifykit.KindInternal: 500,
	}
	for k, code := range want {
		got, typ := status(k)
		require.Equal(t, code, got, k.String())
		require.NotEmpty(t, typ)
	}
}

func TestBearer(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc ": "abc", "Basic abc": "", "": "", "Bearer": "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		require.Equal(t, want, bearer(r), header)
	}
}

func FuzzDecodeStrict(f *testing.F) {
	for _, seed := range []string{`{}`, `{"name":"x","tags":["a"]}`, `{"inner":{"count":1e400}}`, `[`, `null`, `{"list":[{"code":1}]}`, "\xff"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var b testBody
		err := decodeStrict(body, &b)
		if err == nil {
			return
		}
		// Every failure is a classified client error, never a 500.
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve)
		require.Contains(t, []verifykit.Kind{verifykit.KindBadRequest, verifykit.KindInvalidInput}, ve.Kind)
	})
}

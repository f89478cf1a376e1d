package openapicheck_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/openapicheck"
)

// recorder is a testing.TB that keeps what Errorf and Fatalf report.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func (r *recorder) reported() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// doc is a small OpenAPI 3.1 document: a thing by id, with a required header on 200, and
// a create operation with a strict body.
const doc = `{
  "openapi": "3.1.0",
  "info": {"title": "things", "version": "1"},
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "schemas": {
      "Thing": {
        "type": "object", "additionalProperties": false, "required": ["id", "count", "email", "at"],
        "properties": {
          "id": {"type": "string", "format": "uuid"},
          "count": {"type": "integer"},
          "email": {"type": "string", "format": "email"},
          "at": {"type": "string", "format": "date-time"}
        }
      }
    }
  },
  "paths": {
    "/things/{id}": {
      "get": {
        "operationId": "getThing",
        "security": [{"bearer": []}],
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {
          "200": {
            "description": "the thing",
            "headers": {"X-Request-Id": {"required": true, "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}
          },
          "404": {"description": "no such thing"}
        }
      },
      "post": {
        "operationId": "putThing",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["count"], "additionalProperties": false,
          "properties": {"count": {"type": "integer"}}}}}},
        "responses": {
          "204": {"description": "stored"},
          "405": {"description": "wrong method", "headers": {"Allow": {"schema": {"type": "string"}}}},
          "422": {"description": "bad input"}
        }
      }
    }
  }
}`

const good = `{"id":"5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50","count":1,"email":"a@example.com","at":"2026-11-23T09:00:00Z"}`

// fixed answers every request with status, headers and body.
func fixed(status int, header map[string]string, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

func TestCheckerReportsWhatTheDocumentDoesNotDescribe(t *testing.T) {
	ok := map[string]string{"X-Request-Id": "r1"}
	cases := []struct {
		name, method, path, token, body string
		status                          int
		header                          map[string]string
		answer                          string
		want                            string // a part of the one error; "" for none
	}{
		{"a documented answer", "GET", "/things/1", "t", "", 200, ok, good, ""},
		{"a documented error without body", "GET", "/things/1", "t", "", 404, nil, "", ""},
		{"an undocumented status", "GET", "/things/1", "t", "", 500, ok, good, "GET /things/1 -> 500: status is not supported"},
		{"a required property missing", "GET", "/things/1", "t", "", 200, ok,
			`{"id":"5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50","count":1,"email":"a@example.com"}`, "missing property 'at'"},
		{"a wrong type", "GET", "/things/1", "t", "", 200, ok, strings.Replace(good, `"count":1`, `"count":"1"`, 1), "count"},
		{"an undocumented property", "GET", "/things/1", "t", "", 200, ok, strings.Replace(good, `"count":1`, `"count":1,"extra":true`, 1), "extra"},
		{"a bad e-mail", "GET", "/things/1", "t", "", 200, ok, strings.Replace(good, "a@example.com", "", 1), "email"},
		{"a bad uuid", "GET", "/things/1", "t", "", 200, ok, strings.Replace(good, "5d6a4a7e-", "5d6a4a7e", 1), "UUID"},
		{"a bad date-time", "GET", "/things/1", "t", "", 200, ok, strings.Replace(good, "09:00:00Z", "09:00:00", 1), "date-time"},
		{"a required header missing", "GET", "/things/1", "t", "", 200, nil, good, `response header "X-Request-Id" missing`},
		{"an undeclared header named DeclaredHeaders", "POST", "/things/1", "", `{"count":1}`, 204,
			map[string]string{"X-Request-Id": "r1"}, "", `response header "X-Request-Id" is sent but not declared`},
		{"a bad request refused", "POST", "/things/1", "", `{"count":"x"}`, 422, nil, "", ""},
		{"a bad request accepted", "POST", "/things/1", "", `{"count":"x"}`, 204, nil, "", "accepted a request the document does not allow"},
		{"no bearer, yet a success", "GET", "/things/1", "", "", 200, ok, good, "accepted a request the document does not allow"},
		{"a documented 405", "DELETE", "/things/1", "", "", 405, map[string]string{"Allow": "GET, POST"}, "", ""},
		{"a method answered other than 405", "DELETE", "/things/1", "", "", 200, nil, "", "lists no DELETE on /things/{id}"},
		{"an unknown path not found", "GET", "/nothing", "", "", 404, nil, "", ""},
		{"an unknown path served", "GET", "/nothing", "", "", 200, nil, "", "describes no operation GET /nothing"},
		{"a skipped prefix", "GET", "/dev/sms", "", "", 200, nil, "", ""},
	}
	c, err := openapicheck.New(openapicheck.Document([]byte(doc)), openapicheck.SkipPrefixes("/dev/"),
		openapicheck.DeclaredHeaders("X-Request-Id"))
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			newReq := func(base string) *http.Request {
				req, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
				require.NoError(t, err)
				if tc.body == "" {
					req.Body = http.NoBody
				} else {
					req.Header.Set("Content-Type", "application/json")
				}
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				return req
			}
			server := fixed(tc.status, tc.header, tc.answer)
			check := func(via string, errs []string) {
				if tc.want == "" {
					require.Empty(t, errs, via)
					return
				}
				require.Len(t, errs, 1, "%s: %q", via, errs)
				require.Contains(t, errs[0], tc.want, via)
			}

			fake := &recorder{TB: t}
			rec := httptest.NewRecorder()
			c.Handler(fake, server).ServeHTTP(rec, newReq("http://example.test"))
			require.Equal(t, tc.status, rec.Code, "the answer reaches the caller unchanged")
			require.Equal(t, tc.answer, rec.Body.String())
			check("Handler", fake.reported())

			srv := httptest.NewServer(server)
			defer srv.Close()
			fake = &recorder{TB: t}
			res, err := (&http.Client{Transport: c.Transport(fake, nil)}).Do(newReq(srv.URL))
			require.NoError(t, err)
			got, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.NoError(t, res.Body.Close())
			require.Equal(t, tc.status, res.StatusCode)
			require.Equal(t, tc.answer, string(got), "the body is handed on")
			check("Transport", fake.reported())
		})
	}
}

func TestTheEmbeddedDocumentLoads(t *testing.T) {
	_, err := openapicheck.New()
	require.NoError(t, err)
}

func TestABrokenDocumentIsAnError(t *testing.T) {
	fake := &recorder{TB: t}
	openapicheck.Handler(fake, http.NotFoundHandler(), openapicheck.Document([]byte(`{"openapi":`)))
	require.Len(t, fake.reported(), 1)
	require.Contains(t, fake.reported()[0], "loading the document")
}

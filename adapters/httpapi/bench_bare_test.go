package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The benchmarks below put routes of the Handler beside a bare handler that writes a JSON
// body of the same size, with nothing else: no routing, token, decoding or domain call. In
// process (ServeHTTP with a recorder, as in bench_test.go) and over loopback TCP (an
// httptest server and a keep-alive client, as a host serves them), so that the Handler's
// share can be read against what net/http itself costs. None goes through the OpenAPI
// checker of the tests: they measure the handler.

// bareHandler answers every request 200 with a JSON object of about size bytes, encoded
// per request as the Handler encodes its answers.
func bareHandler(size int) http.Handler {
	pad := strings.Repeat("x", max(size-len(`{"data":""}`+"\n"), 0))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(struct {
			Data string `json:"data"`
		}{pad})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	})
}

// routeCase is one request a route benchmark repeats: next returns the method, path and
// body of the i-th request.
type routeCase struct {
	name, token string
	want        int
	next        func(i int) (method, path, body string)
}

// processCases are the OTP identification routes measured: create (a write), metadata (a
// read) on a kit k.
func processCases(b *testing.B, k *benchKit) []routeCase {
	body := k.do(b, "POST", otpBase, "admin", `{"actor":{"name":"Ana","msisdn":{"country_code":"34","phone_number":"699999999"}},"channel":{"type":"SMS"}}`, 201)
	var p struct {
		ID string `json:"id"`
	}
	require.NoError(b, json.Unmarshal(body, &p))
	// Each creation goes to a new phone, across the rounds a benchmark runs too (each round
	// restarts its own count: a phone of an earlier round would meet its send limit).
	created := 0
	return []routeCase{
		{name: "CreateProcess", token: "admin", want: http.StatusCreated, next: func(int) (string, string, string) {
			created++
			return "POST", otpBase, fmt.Sprintf(`{"actor":{"name":"Ana","msisdn":{"country_code":"34","phone_number":"6%08d"}},"channel":{"type":"SMS"}}`, created)
		}},
		{name: "ProcessMetadata", token: "actor", want: http.StatusOK, next: func(int) (string, string, string) {
			return "GET", otpBase + "/" + p.ID, ""
		}},
	}
}

// BenchmarkHTTPCreateProcess measures POST /v1/orgs/{org_id}/identifications/otp (an SMS
// process: strict decoding, the token, a code drawn under the send limits, the process
// stored with it, the code sent to a discarding sender, the JSON answer) through the
// Handler, in process. Each creation goes to a new phone.
func BenchmarkHTTPCreateProcess(b *testing.B) {
	k := newBenchKit(b)
	c := processCases(b, k)[0]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		method, path, body := c.next(i)
		k.do(b, method, path, c.token, body, c.want)
		i++
	}
}

// BenchmarkHTTPProcessMetadata measures GET /v1/orgs/{org_id}/identifications/otp/{id}
// (the actor's read) through the Handler, in process.
func BenchmarkHTTPProcessMetadata(b *testing.B) {
	k := newBenchKit(b)
	c := processCases(b, k)[1]
	b.ReportAllocs()
	for b.Loop() {
		method, path, body := c.next(0)
		k.do(b, method, path, c.token, body, c.want)
	}
}

// BenchmarkHTTPBare measures a bare handler writing a JSON body of the size of each
// route's answer (create-process, process-metadata, resend-auth-method), in process
// through the same ServeHTTP-and-recorder path as the route benchmarks, for the route's
// own requests (method, headers, body).
func BenchmarkHTTPBare(b *testing.B) {
	for _, bc := range bareCases(b) {
		b.Run(bc.name, func(b *testing.B) {
			h := bareHandler(bc.size)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				method, path, body := bc.next(i)
				req := httptest.NewRequest(method, path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+bc.token)
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
				i++
			}
		})
	}
}

// bareCase is a route's request beside the size of its answer: what the bare handler gets
// and writes in the route's place.
type bareCase struct {
	routeCase
	size int
}

// bareCases are the routes measured, with the sizes of their answers. The bare handler
// answers 200 whatever the route answers.
func bareCases(b *testing.B) []bareCase {
	k := newBenchKit(b)
	var out []bareCase
	for _, c := range processCases(b, k) {
		method, path, body := c.next(1 << 20)
		out = append(out, bareCase{c, len(k.do(b, method, path, c.token, body, c.want))})
	}
	resend := newResendCase(b, k)
	method, path, body := resend.next(0)
	k.clock.Advance(time.Hour)
	out = append(out, bareCase{resend, len(k.do(b, method, path, resend.token, body, resend.want))})
	for i := range out {
		out[i].want = http.StatusOK
	}
	return out
}

// newResendCase creates 1024 person requests with distinct phones on k and returns the
// case that resends their codes in turn; the caller moves k's clock a second per resend so
// the send limits never refuse.
func newResendCase(b *testing.B, k *benchKit) routeCase {
	const n = 1024
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
	return routeCase{name: "ResendAuthMethod", token: "writer", want: http.StatusOK, next: func(i int) (string, string, string) {
		return "POST", paths[i%n], ""
	}}
}

// BenchmarkHTTPLoopback measures the same routes and the bare handler (sent each route's
// own requests) over loopback TCP: an httptest server and one keep-alive client, one
// request at a time, as the figures through examples/server were taken. ns/op is
// the round trip.
func BenchmarkHTTPLoopback(b *testing.B) {
	for _, bc := range bareCases(b) {
		b.Run("Bare/"+bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bareHandler(bc.size))
			defer srv.Close()
			loop(b, srv, bc.routeCase, nil)
		})
	}
	k := newBenchKit(b)
	cases := append(processCases(b, k), newResendCase(b, k))
	k.clock.Advance(time.Hour)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			srv := httptest.NewServer(k.h)
			defer srv.Close()
			var tick func()
			if c.name == "ResendAuthMethod" {
				tick = func() { k.clock.Advance(time.Second) }
			}
			loop(b, srv, c, tick)
		})
	}
}

// loop sends c's requests to srv, one at a time, until the benchmark ends; tick, when not
// nil, runs before each.
func loop(b *testing.B, srv *httptest.Server, c routeCase, tick func()) {
	client := srv.Client()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if tick != nil {
			tick()
		}
		method, path, body := c.next(i)
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != c.want {
			b.Fatalf("%s %s: %d", method, path, res.StatusCode)
		}
		i++
	}
}

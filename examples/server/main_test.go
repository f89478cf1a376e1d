package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
)

// output is the server's stdout: it keeps everything written, and hands the base URL to
// ready once the whole banner is written.
type output struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan string
	sent  bool
}

// bannerURL matches the last line of the banner.
var bannerURL = regexp.MustCompile(`OpenAPI document: (http://\S+)/openapi\.json`)

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if o.sent {
		return len(p), nil
	}
	if m := bannerURL.FindSubmatch(o.buf.Bytes()); m != nil {
		o.sent = true
		o.ready <- string(m[1])
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startServer runs the server with args on a free port, and returns its base URL, its
// output, and a stop function that cancels it and returns run's error.
func startServer(t *testing.T, args ...string) (string, *output, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &output{ready: make(chan string, 1)}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), out) }()
	var base string
	select {
	case base = <-out.ready:
	case err := <-done:
		cancel()
		t.Fatalf("the server stopped at start-up: %v\n%s", err, out.String())
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return base, out, stop
}

// do sends a request over real HTTP and decodes the JSON answer, requiring status want.
func do(t *testing.T, method, u, token, body string, want int) map[string]any {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := checkedClient(t).Do(req) // every exchange checked against the OpenAPI document
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, want, res.StatusCode, "%s %s: %s", method, u, raw)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	}
	return out
}

var codeInSMS = regexp.MustCompile(`code is (\d+)`)

// lastCode reads the last code sent to phone from GET /dev/sms.
func lastCode(t *testing.T, base, phone string) string {
	t.Helper()
	sms := do(t, "GET", base+"/dev/sms?to="+url.QueryEscape(phone), "", "", 200)
	msgs := sms["messages"].([]any)
	require.NotEmpty(t, msgs, "an SMS to %s", phone)
	m := codeInSMS.FindStringSubmatch(msgs[len(msgs)-1].(map[string]any)["body"].(string))
	require.NotNil(t, m)
	return m[1]
}

// journeys runs the health route and the person-request and OTP identification flows
// against a running server.
func journeys(t *testing.T, base string) {
	do(t, "GET", base+"/healthz", "", "", 200)
	pr := base + "/api/person_requests/" + demoPersonRequest
	got := do(t, "GET", pr, tokRegistrar, "", 200)
	require.Equal(t, "NEW", got["data"].(map[string]any)["status"])
	first := lastCode(t, base, phonePetro)
	do(t, "POST", pr+"/actions/resend_auth_method", tokRegistrar, `{"alias":"mother"}`, 200)
	mothers := lastCode(t, base, phoneOksana)
	do(t, "PATCH", pr+"/actions/approve", tokRegistrar, `{"verification_code":"`+first+`"}`, 422)
	approved := do(t, "PATCH", pr+"/actions/approve", tokRegistrar, `{"verification_code":"`+mothers+`"}`, 200)
	require.Equal(t, "APPROVED", approved["data"].(map[string]any)["status"])

	proc := base + "/v1/orgs/" + demoOrg + "/identifications/otp/" + demoProcess
	do(t, "PUT", proc+"/validate", tokActor, `{"code":"`+lastCode(t, base, phoneAna)+`","two_factor":"X1234567L"}`, 204)
	require.Equal(t, "VALIDATED", do(t, "GET", proc+"/details", tokOrgAdmin, "", 200)["status"])

	// The deactivation walkthrough: the primary moves to the OTP method, and the list shows it.
	methods := base + "/api/pis/authentication_methods"
	primary := func(body map[string]any) string {
		for _, m := range body["data"].([]any) {
			if m := m.(map[string]any); m["is_primary"] == true {
				return m["id"].(string)
			}
		}
		return ""
	}
	require.Equal(t, "am-olena-mother", primary(do(t, "GET", methods, tokOlena, "", 200)))
	do(t, "PATCH", methods+"/am-olena-mother/actions/deactivate", tokOlena, "", 409)
	do(t, "PATCH", methods+"/am-olena-mother/actions/deactivate", tokIryna, `{"person_id":"olena"}`, 201)
	require.Equal(t, "am-olena-otp", primary(do(t, "GET", methods+"?person_id=olena", tokIryna, "", 200)))
}

func TestServerServesAndShutsDownCleanly(t *testing.T) {
	base, out, stop := startServer(t, "-dev")
	journeys(t, base)
	require.NoError(t, stop(), "a clean shutdown")
	logs := out.String()
	require.Contains(t, logs, "curl -s -H 'Authorization: Bearer demo-registrar' "+base+"/api/person_requests/"+demoPersonRequest)
	require.Contains(t, logs, "storage: memory")
	require.Contains(t, logs, "msg=stopped")
	_, err := http.Get(base + "/healthz")
	require.Error(t, err, "nothing listens any more")
}

func TestServerWithoutDevHasNoOutbox(t *testing.T) {
	base, _, stop := startServer(t)
	do(t, "GET", base+"/dev/sms", "", "", 404)
	require.NoError(t, stop())
}

func TestServerOnPostgres(t *testing.T) {
	pool := pgtest.NewPool(t) // skips without VERIFYKIT_POSTGRES_DSN
	opts := pgtest.NewSchema(t, pool)
	base, out, stop := startServer(t, "-dev", "-postgres", os.Getenv(pgtest.EnvDSN), "-postgres-schema", opts.Schema)
	require.Contains(t, out.String(), "storage: PostgreSQL schema "+opts.Schema)
	journeys(t, base)
	require.NoError(t, stop())

	// A restart on the same schema keeps the data, as the first run left it.
	base, _, stop = startServer(t, "-dev", "-postgres", os.Getenv(pgtest.EnvDSN), "-postgres-schema", opts.Schema)
	got := do(t, "GET", base+"/api/person_requests/"+demoPersonRequest, tokRegistrar, "", 200)
	require.Equal(t, "APPROVED", got["data"].(map[string]any)["status"])
	require.NoError(t, stop())
}

func TestBadFlags(t *testing.T) {
	var out bytes.Buffer
	require.Error(t, run(context.Background(), []string{"-nope"}, &out))
	require.Error(t, run(context.Background(), []string{"extra"}, &out))
	require.Error(t, run(context.Background(), []string{"-addr", "127.0.0.1:0", "-otp-secret", "short"}, &out), "a secret under 32 bytes")
}

// Package openapicheck checks HTTP exchanges against verifykit's OpenAPI document, for
// tests: wrap a handler with Handler, or an HTTP client's transport with Transport, and
// every answer whose request, status, headers or body the document does not describe fails
// the test that produced it (t.Errorf, with the method, path, status and kin-openapi's
// message).
//
// The rules:
//
//   - Every response is checked: its status must be listed for the operation (a status the
//     document does not list fails, there is no lenient default), its documented headers
//     must be present when required and match their schemas, and its body must have a
//     documented content type and match its schema. Formats email, uuid and date-time are
//     enforced.
//   - Requests are checked too, but a request mismatch counts only when the server accepted
//     the request (status below 400). Tests send malformed requests on purpose; a 4xx
//     answer to them agrees with the document. A request the document forbids but the
//     server accepted means that the two disagree on what is valid input.
//   - Authentication is not the checker's job: a bearer-protected operation accepts any
//     "Authorization: Bearer ..." header; only a missing one is a request mismatch (which
//     counts, by the rule above, when the server answered it with success anyway).
//   - A method the document does not list for a described path (405) is checked against
//     the 405 response of one of the path's operations, which must document it. A path the
//     document does not describe must be answered 404; pass SkipPrefixes for routes that
//     are deliberately outside the document (test-only or development routes).
//   - Headers named with DeclaredHeaders must be declared by a response that sends them.
//   - Servers are ignored: paths are matched whatever host and port the test serves on.
package openapicheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/verifykit/verifykit/adapters/httpapi"
)

// Option tunes a Checker.
type Option func(*config)

type config struct {
	doc      []byte
	skip     []string
	declared []string
}

// SkipPrefixes leaves exchanges whose path starts with one of prefixes unchecked: routes
// the document deliberately does not describe, such as a test-only route or a development
// route.
func SkipPrefixes(prefixes ...string) Option {
	return func(c *config) { c.skip = append(c.skip, prefixes...) }
}

// DeclaredHeaders names response headers that a response may send only when the document
// declares them for that response (matched case-insensitively). Headers not named here
// (Content-Length, Date, ...) are never required to be declared.
func DeclaredHeaders(names ...string) Option {
	return func(c *config) { c.declared = append(c.declared, names...) }
}

// Document checks against the OpenAPI document raw instead of the one adapters/httpapi
// embeds.
func Document(raw []byte) Option {
	return func(c *config) { c.doc = raw }
}

// Checker checks exchanges against one OpenAPI document. It is safe for concurrent use.
type Checker struct {
	doc      *openapi3.T
	router   routers.Router
	skip     []string
	declared []string
	schema   []openapi3.SchemaValidationOption

	mu sync.Mutex // kin-openapi's validation is not documented as safe for concurrent use
}

// New loads and validates the document (by default httpapi.OpenAPI()) and returns its
// Checker.
func New(opts ...Option) (*Checker, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	raw := cfg.doc
	if raw == nil {
		raw = httpapi.OpenAPI()
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: loading the document: %w", err)
	}
	doc.Servers = nil // match paths on any host: tests serve on httptest's or a free port
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapicheck: %w", err)
	}
	return &Checker{
		doc: doc, router: router, skip: cfg.skip, declared: cfg.declared,
		schema: []openapi3.SchemaValidationOption{
			openapi3.EnableFormatValidation(),
			openapi3.WithStringFormatValidators(formats()),
		},
	}, nil
}

var (
	reEmail = regexp.MustCompile(openapi3.FormatOfStringForEmail)
	reUUID  = regexp.MustCompile(openapi3.FormatOfStringForUUIDOfRFC9562)
)

// formats are the string formats the document uses, enforced per validation (no global
// registration, so tests of other packages are not affected).
func formats() map[string]openapi3.StringFormatValidator {
	return map[string]openapi3.StringFormatValidator{
		"email": openapi3.NewCallbackValidator(func(s string) error {
			if !reEmail.MatchString(s) {
				return fmt.Errorf("%q is not an e-mail address", s)
			}
			return nil
		}),
		"uuid": openapi3.NewCallbackValidator(func(s string) error {
			if !reUUID.MatchString(s) {
				return fmt.Errorf("%q is not a UUID", s)
			}
			return nil
		}),
		"date-time": openapi3.NewCallbackValidator(func(s string) error {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return fmt.Errorf("%q is not an RFC 3339 date-time", s)
			}
			return nil
		}),
	}
}

// Exchange is one request and the response it got, as the checker sees them.
type Exchange struct {
	// Request is the request; its body is ignored, RequestBody is used instead.
	Request     *http.Request
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Check returns what in x the document does not describe: nothing when it all matches.
// Each problem names the method, path and status.
func (c *Checker) Check(x Exchange) []string {
	path := x.Request.URL.Path
	for _, p := range c.skip {
		if strings.HasPrefix(path, p) {
			return nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	where := fmt.Sprintf("%s %s -> %d", bounded(x.Request.Method), bounded(x.Request.URL.EscapedPath()), x.Status)
	var problems []string
	report := func(format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}

	req := x.Request.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(x.RequestBody)), nil }
	req.ContentLength = int64(len(x.RequestBody))

	route, params, err := c.router.FindRoute(req)
	if err != nil {
		route, params = c.otherMethod(req)
		switch {
		case route == nil && x.Status == http.StatusNotFound:
			return nil // a path the document does not describe, not found: agreed
		case route == nil:
			report("the document describes no operation %s %s (%v), yet it was answered %d", req.Method, path, err, x.Status)
			return problems
		case x.Status != http.StatusMethodNotAllowed:
			report("the document lists no %s on %s, yet it was answered %d, not 405", req.Method, route.Path, x.Status)
			return problems
		}
		// A 405: the answer must be the documented 405 of the path; the request itself is
		// not the operation's, so it is not checked.
	} else if x.Status < 400 {
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.requestOptions()}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			report("the server accepted a request the document does not allow: %s (%s)", flatten(err), route.Operation.OperationID)
		}
	}

	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 x.Status,
		Header:                 x.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, MultiError: true, SchemaValidationOptions: c.schema,
		},
	}
	in.SetBodyBytes(x.Body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		report("%s (%s)", flatten(err), route.Operation.OperationID)
	}
	if resp := route.Operation.Responses.Status(x.Status); resp != nil && resp.Value != nil {
		for _, name := range c.declared {
			if x.Header.Get(name) == "" {
				continue
			}
			if !slices.ContainsFunc(keys(resp.Value.Headers), func(h string) bool { return strings.EqualFold(h, name) }) {
				report("response header %q is sent but not declared (%s)", name, route.Operation.OperationID)
			}
		}
	}
	return problems
}

// otherMethod finds an operation of the path of req under another method, the one the
// checker validates a 405 against: the first method, in a fixed order, whose operation
// documents 405; failing that, the first operation at all (whose check then reports the
// undocumented 405). It returns nil when the path is not described.
func (c *Checker) otherMethod(req *http.Request) (*routers.Route, map[string]string) {
	var first *routers.Route
	var firstParams map[string]string
	for _, m := range []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"} {
		if m == req.Method {
			continue
		}
		probe := req.Clone(context.Background())
		probe.Method = m
		route, params, err := c.router.FindRoute(probe)
		if err != nil {
			continue
		}
		if route.Operation.Responses.Status(http.StatusMethodNotAllowed) != nil {
			return route, params
		}
		if first == nil {
			first, firstParams = route, params
		}
	}
	return first, firstParams
}

func (c *Checker) requestOptions() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError: true, SkipSettingDefaults: true, SchemaValidationOptions: c.schema,
		AuthenticationFunc: anyBearer,
	}
}

// anyBearer accepts any bearer token: whether it is valid is the server's business. It
// refuses a request without one for a bearer scheme.
func anyBearer(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
		return nil
	}
	scheme, token, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return errors.New("no Authorization: Bearer header")
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// bounded cuts a method or path a test chose (up to 16 kB in hostile tests) for messages.
func bounded(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s...[%dB]", s[:max], len(s))
}

// flatten writes kin-openapi's error on one line, bounded.

func flatten(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) > 2000 {
		s = s[:2000] + "..."
	}
	return s
}

// defaultChecker is the checker of the embedded document without options, loaded once.
var defaultChecker = sync.OnceValues(func() (*Checker, error) { return New() })

// checkerFor returns the checker of opts: a new one, or without options the shared one.
func checkerFor(t testing.TB, opts []Option) *Checker {
	t.Helper()
	var c *Checker
	var err error
	if len(opts) == 0 {
		c, err = defaultChecker()
	} else {
		c, err = New(opts...)
	}
	if err != nil {
		t.Fatalf("openapicheck: %v", err)
	}
	return c
}

// Handler returns h, with every request it serves and every response it writes checked
// against the document (see the package documentation for the rules); each mismatch is a
// t.Errorf. The response reaches the caller unchanged. It loads the document for each
// call with options: build a Checker once with New to share it.
func Handler(t testing.TB, h http.Handler, opts ...Option) http.Handler {
	t.Helper()
	return checkerFor(t, opts).Handler(t, h)
}

// Transport returns a RoundTripper that sends requests through base (nil:
// http.DefaultTransport) and checks every exchange against the document, like Handler;
// each mismatch is a t.Errorf. The response body is read in full and handed on unchanged.
func Transport(t testing.TB, base http.RoundTripper, opts ...Option) http.RoundTripper {
	t.Helper()
	return checkerFor(t, opts).Transport(t, base)
}

// Handler is the package's Handler with c's document and options.
func (c *Checker) Handler(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqBody []byte
		if r.Body != nil {
			var err error
			if reqBody, err = io.ReadAll(r.Body); err != nil {
				t.Errorf("openapicheck: reading the request body of %s %s: %v", r.Method, r.URL.Path, err)
			}
			_ = r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		orig := r.Clone(r.Context())
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		header := tw.header
		if header == nil { // nothing written: an empty 200
			header = w.Header().Clone()
		}
		status := tw.status
		if status == 0 {
			status = http.StatusOK
		}
		for _, p := range c.Check(Exchange{Request: orig, RequestBody: reqBody, Status: status, Header: header, Body: tw.body.Bytes()}) {
			t.Errorf("openapicheck: %s", p)
		}
	})
}

// teeWriter passes a response through and keeps its status, its headers as they were
// when the status was written, and its body.
type teeWriter struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status, w.header = code, w.ResponseWriter.Header().Clone()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Transport is the package's Transport with c's document and options.
func (c *Checker) Transport(t testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{t: t, base: base, c: c}
}

type transport struct {
	t    testing.TB
	base http.RoundTripper
	c    *Checker
}

// RoundTrip sends req and checks the exchange.
func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	out := req
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		out = req.Clone(req.Context())
		out.Body = io.NopCloser(bytes.NewReader(reqBody))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	res, err := tr.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	for _, p := range tr.c.Check(Exchange{Request: req, RequestBody: reqBody, Status: res.StatusCode, Header: res.Header, Body: body}) {
		tr.t.Errorf("openapicheck: %s", p)
	}
	return res, nil
}

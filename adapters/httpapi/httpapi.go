// Package httpapi serves the REST routes of the original APIs over the verifykit domain
// packages, with the standard library's net/http only.
//
// It is the one package that knows HTTP status codes: domain errors (*verifykit.Error) are
// mapped to statuses and to the error body of the eHealth APIs, with the offending inputs
// and a request id. Input is strict: JSON only (415), at most MaxBodyBytes (413), unknown
// properties and wrong types reported with their JSONPath (422), wrong methods 405 and
// unknown routes 404, all in the same error body. Tokens come from the Authorization:
// Bearer header and are checked by the domain through its ports.TokenVerifier.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/personrequest"
)

// Handler serves the routes of the services it was built with; it is an http.Handler.
// Build it with New.
type Handler struct {
	mux    *http.ServeMux
	log    *slog.Logger
	routes []string // "METHOD /path/{param}", in registration order

	clients ClientVerifier // Options.Clients: checks the api-key of the eHealth routes
	tracing Tracing        // Options.Tracing: a server span per request
	fields  fieldCache     // the JSON fields of the request body types, for decodeJSON
	bodies  sync.Pool      // *bytes.Buffer: request bodies read by decodeJSON
	answers sync.Pool      // *[]byte: answers written by writeAppender
}

// Services are the domain services whose routes a Handler serves. A nil service's routes
// are not registered (and not listed in /openapi.json), so a host can serve some flows only.
type Services struct {
	// Profiles serves the SDK.Finance profile identification routes under /api/v1.
	Profiles *identification.ProfileService
	// Processes serves the OTP identification routes under
	// /v1/orgs/{org_id}/identifications/otp.
	Processes *otpprocess.Service
	// PersonRequests serves the eHealth person-request routes under /api/person_requests.
	PersonRequests *personrequest.Service
	// AuthMethods serves the eHealth patient-portal routes under
	// /api/pis/authentication_methods.
	AuthMethods *authmethod.Service
}

// Options tune a Handler.
type Options struct {
	// Logger receives one line per request and the details of failures. Default: discard.
	Logger *slog.Logger
	// Clients, when set, checks the api-key header of the eHealth routes before any token
	// work (see ClientVerifier). Default: no check.
	Clients ClientVerifier
	// Tracing, when set, starts a server span per request and adds trace_id and span_id to
	// the log lines of Logger (adapters/otel.HTTPTracing). Default: no tracing.
	Tracing Tracing
}

// Tracing traces the requests a Handler serves. adapters/otel implements it with
// OpenTelemetry (HTTPTracing), so this package depends on no telemetry library.
type Tracing interface {
	// StartRequest starts the server span of r, named by route: the pattern that matched
	// ("POST /api/person_requests/{id}/actions/resend_auth_method"), never the raw path;
	// "" when no route matched. It continues the trace context r's headers carry (W3C
	// traceparent), writes the trace context into w's headers, and records requestID. It
	// returns r's context with the span, and the function to call with the status
	// answered once the request is served.
	StartRequest(w http.ResponseWriter, r *http.Request, route, requestID string) (context.Context, func(status int))
	// LogHandler returns h adding trace_id and span_id to every record whose context
	// carries a span.
	LogHandler(h slog.Handler) slog.Handler
}

// New returns a Handler serving the routes of every non-nil service, plus GET /healthz and
// GET /openapi.json.
func New(s Services, opts Options) (*Handler, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Tracing != nil {
		opts.Logger = slog.New(opts.Tracing.LogHandler(opts.Logger.Handler()))
	}
	h := &Handler{mux: http.NewServeMux(), log: opts.Logger, clients: opts.Clients, tracing: opts.Tracing}
	h.handle("GET", "/healthz", func(w http.ResponseWriter, _ *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
	var doc []byte // set below, once every route (this one too) is registered
	h.handle("GET", "/openapi.json", func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
		return nil
	})
	if s.Profiles != nil {
		h.profileRoutes(s.Profiles)
	}
	if s.Processes != nil {
		h.processRoutes(s.Processes)
	}
	if s.PersonRequests != nil {
		h.personRequestRoutes(s.PersonRequests)
	}
	if s.AuthMethods != nil {
		h.authMethodRoutes(s.AuthMethods)
	}
	doc, err := h.openAPIDocument()
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Routes returns the registered routes as "METHOD /path/{param}" patterns, in the order
// they were registered.
func (h *Handler) Routes() []string { return slices.Clone(h.routes) }

// handlerFunc is a route handler that returns its error for the api to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers fn for "METHOD /path" and remembers the route for the OpenAPI check.
func (h *Handler) handle(method, path string, fn handlerFunc) {
	pattern := method + " " + path
	h.routes = append(h.routes, pattern)
	fn = h.withClientKey(path, fn)
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// bearer returns the token of the Authorization: Bearer header, or "" (which every domain
// answers with 401 "Invalid access token").
func bearer(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

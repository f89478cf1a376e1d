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
	"log/slog"
	"net/http"
	"strings"

	"github.com/verifykit/verifykit"
)

// api is the Handler: a mux of the routes plus the middleware in ServeHTTP.
type api struct {
	mux    *http.ServeMux
	log    *slog.Logger
	routes []string // "METHOD /path/{param}", in registration order
}

// handlerFunc is a route handler that returns its error for the api to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h for "METHOD /path" and remembers the route for the OpenAPI check.
func (a *api) handle(method, path string, h handlerFunc) {
	pattern := method + " " + path
	a.routes = append(a.routes, pattern)
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
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

// pathParam returns the path value name, or a KindNotFound error when it is empty.
func pathParam(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if strings.TrimSpace(v) == "" {
		return "", verifykit.New(verifykit.KindNotFound, "Not found.")
	}
	return v, nil
}

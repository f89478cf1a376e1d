package httpapi_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/httpapi"
)

// documentedRoutes lists the "METHOD /path" routes an OpenAPI document names.
func documentedRoutes(t *testing.T, raw []byte) []string {
	t.Helper()
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	var out []string
	opIDs := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			route := strings.ToUpper(method) + " " + path
			require.Contains(t, op, "responses", "%s documents its responses", route)
			require.Contains(t, op, "operationId")
			id := op["operationId"].(string)
			require.NotContains(t, opIDs, id, "operationId %q of %s is also %s's", id, route, opIDs[id])
			opIDs[id] = route
			out = append(out, route)
		}
	}
	slices.Sort(out)
	return out
}

// pathOrder lists the paths of an OpenAPI document in the order the document has them.
func pathOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	var doc struct {
		Paths json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	dec := json.NewDecoder(bytes.NewReader(doc.Paths))
	_, err := dec.Token()
	require.NoError(t, err)
	var out []string
	for dec.More() {
		key, err := dec.Token()
		require.NoError(t, err)
		out = append(out, key.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return out
}

// servedPathOrder lists the paths of h's routes in the order they are first registered.
func servedPathOrder(h interface{ Routes() []string }) []string {
	var out []string
	for _, r := range h.Routes() {
		_, path, _ := strings.Cut(r, " ")
		if !slices.Contains(out, path) {
			out = append(out, path)
		}
	}
	return out
}

func TestOpenAPIDocumentsExactlyTheRegisteredRoutes(t *testing.T) {
	h := newFullHandler(t).handler
	registered := h.Routes()
	slices.Sort(registered)
	require.Equal(t, registered, documentedRoutes(t, httpapi.OpenAPI()),
		"every registered route is documented, and every documented route is registered")
}

func TestOpenAPIListsPathsInServeOrder(t *testing.T) {
	h := newFullHandler(t).handler
	want := servedPathOrder(h)
	require.Equal(t, want, pathOrder(t, httpapi.OpenAPI()), "the embedded document")
	rec := serve(h, "GET", "/openapi.json", "", "")
	require.Equal(t, 200, rec.Code)
	require.Equal(t, want, pathOrder(t, rec.Body.Bytes()), "the served document")
	require.JSONEq(t, string(httpapi.OpenAPI()), rec.Body.String(), "with every service, the whole document is served")
}

func TestOpenAPIServedIsNarrowedToTheServices(t *testing.T) {
	h, err := httpapi.New(httpapi.Services{}, httpapi.Options{})
	require.NoError(t, err)
	rec := serve(checked(t, h), "GET", "/openapi.json", "", "")
	require.Equal(t, 200, rec.Code)
	require.Equal(t, []string{"GET /healthz", "GET /openapi.json"}, documentedRoutes(t, rec.Body.Bytes()))
}

package httpapi_test

import (
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
	for path, ops := range doc.Paths {
		for method, op := range ops {
			require.Contains(t, op, "responses", "%s %s documents its responses", method, path)
			require.Contains(t, op, "operationId")
			out = append(out, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

func TestOpenAPIDocumentsExactlyTheRegisteredRoutes(t *testing.T) {
	h := newFullHandler(t).handler
	registered := h.Routes()
	slices.Sort(registered)
	require.Equal(t, registered, documentedRoutes(t, httpapi.OpenAPI()),
		"every registered route is documented, and every documented route is registered")
}

func TestOpenAPIServedIsNarrowedToTheServices(t *testing.T) {
	h, err := httpapi.New(httpapi.Services{}, httpapi.Options{})
	require.NoError(t, err)
	rec := serve(h, "GET", "/openapi.json", "", "")
	require.Equal(t, 200, rec.Code)
	require.Equal(t, []string{"GET /healthz", "GET /openapi.json"}, documentedRoutes(t, rec.Body.Bytes()))
}

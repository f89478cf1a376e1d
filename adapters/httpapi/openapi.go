package httpapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// openAPI is the OpenAPI 3.1 document of every route this package can serve. A test checks
// that it names exactly the routes New registers with every service.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of every route the package can serve, whatever
// services a Handler has.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// openAPIDocument returns the document narrowed to the routes h registered.
func (h *Handler) openAPIDocument() ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, fmt.Errorf("httpapi: the embedded OpenAPI document is invalid: %w", err)
	}
	registered := make(map[string]bool, len(h.routes))
	for _, r := range h.routes {
		registered[r] = true
	}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method := range ops {
			if isHTTPMethod(method) && !registered[strings.ToUpper(method)+" "+path] {
				delete(ops, method)
			}
		}
		if !hasOperation(ops) {
			delete(paths, path)
		}
	}
	return json.Marshal(doc)
}

func isHTTPMethod(m string) bool {
	return slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, m)
}

func hasOperation(ops map[string]any) bool {
	for m := range ops {
		if isHTTPMethod(m) {
			return true
		}
	}
	return false
}

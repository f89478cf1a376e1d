package httpapi

import (
	"bytes"
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

// openAPIDocument returns the document narrowed to the routes h registered. Members keep
// the order they have in the embedded document (paths in the order the routes are served).
func (h *Handler) openAPIDocument() ([]byte, error) {
	registered := make(map[string]bool, len(h.routes))
	for _, r := range h.routes {
		registered[r] = true
	}
	doc, err := objectMembers(openAPI)
	if err != nil {
		return nil, fmt.Errorf("httpapi: the embedded OpenAPI document is invalid: %w", err)
	}
	for i, m := range doc {
		if m.key != "paths" {
			continue
		}
		paths, err := objectMembers(m.value)
		if err != nil {
			return nil, fmt.Errorf("httpapi: the embedded OpenAPI document is invalid: %w", err)
		}
		var kept []member
		for _, p := range paths {
			ops, err := objectMembers(p.value)
			if err != nil {
				return nil, fmt.Errorf("httpapi: the embedded OpenAPI document is invalid: %w", err)
			}
			ops = slices.DeleteFunc(ops, func(op member) bool {
				return isHTTPMethod(op.key) && !registered[strings.ToUpper(op.key)+" "+p.key]
			})
			if slices.ContainsFunc(ops, func(op member) bool { return isHTTPMethod(op.key) }) {
				kept = append(kept, member{p.key, encodeMembers(ops)})
			}
		}
		doc[i].value = encodeMembers(kept)
	}
	return encodeMembers(doc), nil
}

// member is one member of a JSON object.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers returns the members of the JSON object raw, in order.
func objectMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, err
		}
		out = append(out, member{key, value})
	}
	return out, nil
}

// encodeMembers writes members as a compact JSON object, in order.
func encodeMembers(members []member) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		key, _ := json.Marshal(m.key)
		b.Write(key)
		b.WriteByte(':')
		_ = json.Compact(&b, m.value)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func isHTTPMethod(m string) bool {
	return slices.Contains([]string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}, m)
}

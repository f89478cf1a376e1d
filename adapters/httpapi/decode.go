package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/verifykit/verifykit"
)

// MaxBodyBytes is the largest request body accepted: larger bodies answer 413.
const MaxBodyBytes = 1 << 20

// decodeJSON reads r's body into dst, strictly: the content type must be JSON (415), the
// body at most MaxBodyBytes (413) and well-formed (400), and every property must be one
// dst knows, of the right type (422, each offending property named by its JSONPath). An
// empty body is an empty object when emptyOK, else 400.
func (h *Handler) decodeJSON(r *http.Request, dst any, emptyOK bool) error {
	if r.Body == nil {
		r.Body = http.NoBody
	}
	// The body is read into a buffer of the Handler's pool: decoding copies what it keeps
	// (every string), so the buffer goes back once dst is filled.
	buf, _ := h.bodies.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= maxPooledBody {
			buf.Reset()
			h.bodies.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1)); err != nil {
		return verifykit.Wrap(verifykit.KindBadRequest, "The request body could not be read.", err)
	}
	body := buf.Bytes()
	if len(body) > MaxBodyBytes {
		return &httpError{status: http.StatusRequestEntityTooLarge, typ: "request_too_large",
			message: fmt.Sprintf("The request body is larger than %d bytes.", MaxBodyBytes)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if emptyOK {
			return nil
		}
		return verifykit.New(verifykit.KindBadRequest, "The request body is empty; a JSON object is expected.")
	}
	if err := checkContentType(r); err != nil {
		return err
	}
	return decodeStrictWith(&h.fields, body, dst)
}

// maxPooledBody is the largest body buffer decodeJSON keeps for the next request.
const maxPooledBody = 64 << 10

func checkContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" {
		return nil // what mime.ParseMediaType would find, without its parse
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &httpError{status: http.StatusUnsupportedMediaType, typ: "unsupported_media_type",
			message: "The request body must be JSON (Content-Type: application/json)."}
	}
	return nil
}

// decodeStrict decodes a JSON document into dst, reporting every unknown property and every
// type mismatch with its JSONPath.
func decodeStrict(body []byte, dst any) error { return decodeStrictWith(nil, body, dst) }

// fieldCache remembers jsonFields per type: the decoding of every request body checks its
// tree against the fields of the same few types. A Handler owns one; nil computes them
// each time.
type fieldCache struct {
	m     sync.Map // reflect.Type -> map[string]reflect.Type
	infos sync.Map // reflect.Type -> *typeInfo
}

// fields returns jsonFields(t), remembered.
func (c *fieldCache) fields(t reflect.Type) map[string]reflect.Type {
	if c == nil {
		return jsonFields(t)
	}
	if f, ok := c.m.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f, _ := c.m.LoadOrStore(t, jsonFields(t))
	return f.(map[string]reflect.Type)
}

// decodeStrictWith is decodeStrict with the fields of the types remembered in c. A body
// that conforms to dst's type is decoded straight into dst (decode_fast.go); any other
// takes the slow path, which decodes it into a tree first to name every problem with its
// JSONPath.
func decodeStrictWith(c *fieldCache, body []byte, dst any) error {
	t := reflect.TypeOf(dst).Elem()
	if out := reflect.ValueOf(dst).Elem(); out.IsZero() {
		// A value the caller filled in first takes json.Unmarshal's way of decoding into
		// what is there already.
		if v, ok := decodeFast(c, body, t); ok {
			out.Set(v)
			return nil
		}
	}
	if conforms(c, body, t) {
		if json.Unmarshal(body, dst) == nil {
			return nil
		}
		reflect.ValueOf(dst).Elem().SetZero() // the slow path decodes into a zero value again
	}
	return decodeTree(c, body, dst, t)
}

// decodeTree is decodeStrictWith's slow path: the body decoded into a generic tree,
// checked against t (dst's type) with every problem named, then decoded into dst.
func decodeTree(c *fieldCache, body []byte, dst any, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return syntaxError(err)
	}
	if dec.More() {
		return verifykit.New(verifykit.KindBadRequest, "The request body must hold one JSON value.")
	}
	var v verifykit.Validation
	checkTree(c, &v, tree, t, "$")
	if err := v.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(body, dst); err != nil {
		// Only values the tree check cannot see get here (e.g. a number too large).
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
				Entry: jsonPath(ute.Field), EntryType: verifykit.EntryJSONProperty,
				Rule: "cast", Description: "is not a valid " + ute.Type.String(),
			})
		}
		return verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
			Entry: "$", EntryType: verifykit.EntryJSONProperty, Rule: "cast", Description: err.Error(),
		})
	}
	return nil
}

func syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return verifykit.Wrap(verifykit.KindBadRequest,
			fmt.Sprintf("The request body is not valid JSON (at byte %d).", se.Offset), err)
	}
	return verifykit.Wrap(verifykit.KindBadRequest, "The request body is not valid JSON.", err)
}

func jsonPath(field string) string {
	if field == "" {
		return "$"
	}
	return "$." + field
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// checkTree compares a decoded JSON value with the Go type it will be decoded into.
func checkTree(c *fieldCache, v *verifykit.Validation, val any, t reflect.Type, path string) {
	if val == nil {
		return // null leaves the zero value
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		// The type decodes itself (time.Time, durations, ...): let it try this value alone,
		// so that its error is reported at its path along with the others.
		raw, err := json.Marshal(val)
		if err == nil {
			err = json.Unmarshal(raw, reflect.New(t).Interface())
		}
		if err != nil {
			v.Add(path, "cast", "is not a valid "+t.String())
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := val.(map[string]any)
		if !ok {
			mismatch(v, path, "object", val)
			return
		}
		fields := c.fields(t)
		for _, key := range sortedKeys(obj) {
			f, ok := fields[key]
			if !ok {
				v.Add(path+"."+key, "schema_additional_properties", "is not a known property")
				continue
			}
			checkTree(c, v, obj[key], f, path+"."+key)
		}
	case reflect.Map:
		obj, ok := val.(map[string]any)
		if !ok {
			mismatch(v, path, "object", val)
			return
		}
		for _, key := range sortedKeys(obj) {
			checkTree(c, v, obj[key], t.Elem(), path+"."+key)
		}
	case reflect.Slice, reflect.Array:
		arr, ok := val.([]any)
		if !ok {
			mismatch(v, path, "array", val)
			return
		}
		for i, el := range arr {
			checkTree(c, v, el, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.String:
		if _, ok := val.(string); !ok {
			mismatch(v, path, "string", val)
		}
	case reflect.Bool:
		if _, ok := val.(bool); !ok {
			mismatch(v, path, "boolean", val)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := val.(json.Number)
		if !ok {
			mismatch(v, path, "integer", val)
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			mismatch(v, path, "integer", val)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := val.(json.Number); !ok {
			mismatch(v, path, "number", val)
		}
	}
}

func mismatch(v *verifykit.Validation, path, want string, got any) {
	v.Add(path, "cast", "type mismatch: expected "+want+" but got "+jsonType(got))
}

func jsonType(val any) string {
	switch val.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// sortedKeys returns m's keys in order, so that errors list entries in a stable order.
func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// jsonFields maps the JSON names of t's exported fields (embedded structs flattened) to
// their types, as encoding/json names them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := make(map[string]reflect.Type)
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = ft
	}
	return out
}

package httpapi

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The strict decoder's fast path. A body is first read as it stands, building nothing:
// conforms reports whether checkTree would find nothing wrong with it, and decodeFast
// also fills a value of a plain type (see typeInfo.plain) as json.Unmarshal would. Both
// answer false whenever they are not sure: decodeStrictWith then goes the slower way,
// json.Unmarshal after conforms, or the tree that names every problem. false never means
// the body is wrong. TestDecodeStrictFastPathAgreesWithTree and its fuzz target hold the
// fast path to the slow one.

// conforms reports whether body is one JSON value that checkTree would find nothing wrong
// with for type t: every object key a property t knows (exactly: encoding/json would also
// take "Actor" for "actor", checkTree does not), every value of the kind its property's
// type reads. It answers false when unsure (a property name written with escapes, a type
// that decodes itself, nesting deeper than maxConformDepth, anything malformed).
func conforms(c *fieldCache, body []byte, t reflect.Type) bool {
	s := conformScan{b: body, c: c}
	return s.value(t, reflect.Value{}, 0) && s.end()
}

// decodeFast decodes body into a new value of t and answers it, when t is plain, body
// conforms, and every string is written without escapes in valid UTF-8, with no property
// twice in one object: what json.Unmarshal would decode, without its reflection on every
// value. ok is false otherwise.
func decodeFast(c *fieldCache, body []byte, t reflect.Type) (v reflect.Value, ok bool) {
	if !c.info(t).plain {
		return reflect.Value{}, false
	}
	v = reflect.New(t).Elem()
	s := conformScan{b: body, c: c}
	if !s.value(t, v, 0) || !s.end() {
		return reflect.Value{}, false
	}
	return v, true
}

// maxConformDepth bounds the nesting conforms follows; deeper bodies take the slow path.
const maxConformDepth = 64

// typeInfo is what the fast path needs to know of a type.
type typeInfo struct {
	// selfDecoding: the type (through a pointer) decodes itself from JSON or text.
	selfDecoding bool
	// fields are a struct's properties by JSON name, as jsonFields names them.
	fields map[string]fieldInfo
	// plain: decodeFast can fill the type. It is made of strings, booleans, numbers,
	// pointers, slices (not of bytes) and structs of those, none decoding itself; a
	// struct's properties are named by plain tags (or field names), none twice, with no
	// option but omitempty and omitzero, no embedded field, at most 64 of them.
	plain bool
}

// fieldInfo is one property of a struct: its type, and the index of the field that holds
// it (-1 when it comes from an embedded struct).
type fieldInfo struct {
	typ   reflect.Type
	index int
}

// info returns t's typeInfo, remembered.
func (c *fieldCache) info(t reflect.Type) *typeInfo { return c.infoAt(t, 0) }

// maxTypeDepth bounds how deep newTypeInfo follows a type's parts: a type that contains
// itself is not plain.
const maxTypeDepth = 32

// infoAt is info for a part of a type depth levels down.
func (c *fieldCache) infoAt(t reflect.Type, depth int) *typeInfo {
	if c == nil {
		return newTypeInfo(c, t, depth)
	}
	if ti, ok := c.infos.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti, _ := c.infos.LoadOrStore(t, newTypeInfo(c, t, depth))
	return ti.(*typeInfo)
}

func newTypeInfo(c *fieldCache, t reflect.Type, depth int) *typeInfo {
	pt := reflect.PointerTo(t)
	ti := &typeInfo{selfDecoding: pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler)}
	if ti.selfDecoding || depth > maxTypeDepth {
		return ti
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		ti.plain = true
	case reflect.Pointer:
		ti.plain = c.infoAt(t.Elem(), depth+1).plain
	case reflect.Slice:
		ti.plain = t.Elem().Kind() != reflect.Uint8 && c.infoAt(t.Elem(), depth+1).plain
	case reflect.Struct:
		ti.fields = make(map[string]fieldInfo)
		for name, ft := range c.fields(t) {
			ti.fields[name] = fieldInfo{typ: ft, index: -1}
		}
		ti.plain = t.NumField() <= 64
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			name, ok := plainJSONName(f)
			if fi, known := ti.fields[name]; !ok || !known || fi.index >= 0 || f.Anonymous || !c.infoAt(f.Type, depth+1).plain {
				ti.plain = false
				continue
			}
			ti.fields[name] = fieldInfo{typ: f.Type, index: i}
		}
	}
	return ti
}

// plainJSONName answers the JSON name encoding/json gives field f, when its tag is plain:
// letters, digits, '_', '-' and '.', with no option but omitempty and omitzero (or no tag).
func plainJSONName(f reflect.StructField) (string, bool) {
	tag, ok := f.Tag.Lookup("json")
	if !ok {
		return f.Name, true
	}
	name, opts, _ := strings.Cut(tag, ",")
	for _, o := range strings.Split(opts, ",") {
		if o != "" && o != "omitempty" && o != "omitzero" {
			return "", false
		}
	}
	if name == "" {
		return f.Name, true
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "", false
		}
	}
	return name, true
}

// conformScan is the fast path's position in the body.
type conformScan struct {
	b []byte
	i int
	c *fieldCache
}

func (s *conformScan) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (s *conformScan) end() bool {
	s.space()
	return s.i == len(s.b)
}

// peek answers the next byte after white space, or 0 at the end.
func (s *conformScan) peek() byte {
	s.space()
	if s.i == len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// literal consumes lit if it is next.
func (s *conformScan) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

// value checks the value at the position against t and moves past it. When v is valid
// (a zero value of t, settable) it also fills v; t is then plain.
func (s *conformScan) value(t reflect.Type, v reflect.Value, depth int) bool {
	if depth > maxConformDepth {
		return false
	}
	if s.peek() == 'n' {
		return s.literal("null") // null leaves the zero value, whatever the type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
		if v.IsValid() {
			v.Set(reflect.New(t))
			v = v.Elem()
		}
	}
	ti := s.c.info(t)
	if ti.selfDecoding {
		return false // checkTree lets the type try the value alone
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return s.object(t, ti, v, depth)
	case reflect.Slice, reflect.Array:
		return s.array(t, v, depth)
	case reflect.String:
		raw, escaped, ok := s.str()
		if ok && v.IsValid() {
			if escaped || !utf8.Valid(raw) {
				return false // json.Unmarshal unescapes, and replaces what is not UTF-8
			}
			v.SetString(string(raw))
		}
		return ok
	case reflect.Bool:
		switch {
		case s.literal("true"):
			if v.IsValid() {
				v.SetBool(true)
			}
			return true
		case s.literal("false"):
			return true
		}
		return false
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		n, ok := s.number()
		return ok && setNumber(t, v, string(n))
	default: // an interface (or a kind JSON cannot fill, which checkTree leaves alone)
		return !v.IsValid() && s.skip(depth)
	}
}

// setNumber checks the number n against t as checkTree does (an integer type takes an
// integer only) and, when v is valid, sets it as json.Unmarshal would: false when the
// number does not fit (json.Unmarshal refuses it).
func setNumber(t reflect.Type, v reflect.Value, n string) bool {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		if !v.IsValid() {
			return true
		}
		f, err := strconv.ParseFloat(n, t.Bits())
		if err != nil || v.OverflowFloat(f) {
			return false
		}
		v.SetFloat(f)
		return true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if _, err := strconv.ParseInt(n, 10, 64); err != nil {
			return false
		}
		if !v.IsValid() {
			return true
		}
		u, err := strconv.ParseUint(n, 10, 64)
		if err != nil || v.OverflowUint(u) {
			return false
		}
		v.SetUint(u)
		return true
	}
	i, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return false
	}
	if v.IsValid() {
		if v.OverflowInt(i) {
			return false
		}
		v.SetInt(i)
	}
	return true
}

// object checks an object holding t's properties (a struct), or values of t's element type
// (a map), or any values (an interface), filling v (a struct) when it is valid.
func (s *conformScan) object(t reflect.Type, ti *typeInfo, v reflect.Value, depth int) bool {
	if empty, ok := s.open('{', '}'); empty || !ok {
		return ok
	}
	elem := anyType
	if t.Kind() == reflect.Map {
		elem = t.Elem()
	}
	var seen uint64 // the fields of v filled: a property twice is left to json.Unmarshal
	for {
		key, escaped, ok := s.str()
		if !ok {
			return false
		}
		ft, fv := elem, reflect.Value{}
		if ti.fields != nil {
			f, ok := ti.fields[string(key)]
			if !ok || escaped {
				return false
			}
			ft = f.typ
			if v.IsValid() {
				if f.index < 0 || seen&(1<<f.index) != 0 {
					return false
				}
				seen |= 1 << f.index
				fv = v.Field(f.index)
			}
		}
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !s.value(ft, fv, depth+1) {
			return false
		}
		if more, ok := s.after('}'); !more {
			return ok
		}
	}
}

// array checks an array of values of t's element type, filling v (a slice) when it is
// valid, as json.Unmarshal does: [] is an empty slice, not nil.
func (s *conformScan) array(t reflect.Type, v reflect.Value, depth int) bool {
	if v.IsValid() {
		v.Set(reflect.MakeSlice(t, 0, 0))
	}
	if empty, ok := s.open('[', ']'); empty || !ok {
		return ok
	}
	for {
		ev := reflect.Value{}
		if v.IsValid() {
			v.Set(reflect.Append(v, reflect.Zero(t.Elem())))
			ev = v.Index(v.Len() - 1)
		}
		if !s.value(t.Elem(), ev, depth+1) {
			return false
		}
		if more, ok := s.after(']'); !more {
			return ok
		}
	}
}

// open moves past begin, and past end too when it follows at once (empty); ok is false
// when begin is not next.
func (s *conformScan) open(begin, end byte) (empty, ok bool) {
	if s.peek() != begin {
		return false, false
	}
	s.i++
	if s.peek() == end {
		s.i++
		return true, true
	}
	return false, true
}

// after moves past what follows a member of an object or array that end closes: a comma
// (more), or end (ok, no more); anything else is neither.
func (s *conformScan) after(end byte) (more, ok bool) {
	switch s.peek() {
	case ',':
		s.i++
		return true, true
	case end:
		s.i++
		return false, true
	}
	return false, false
}

// str moves past a string and answers its bytes between the quotes as written, and
// whether they hold an escape. A control character (not JSON) answers false.
func (s *conformScan) str() (raw []byte, escaped, ok bool) {
	if s.peek() != '"' {
		return nil, false, false
	}
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j], escaped, true
		case c == '\\':
			escaped = true
			j++ // the escaped character, which may be a quote
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// number moves past a JSON number and answers its text.
func (s *conformScan) number() ([]byte, bool) {
	s.space()
	start, j := s.i, s.i
	digits := func() bool {
		k := j
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	if j < len(s.b) && s.b[j] == '0' {
		j++
	} else if !digits() {
		return nil, false
	}
	if j < len(s.b) && s.b[j] == '.' {
		j++
		if !digits() {
			return nil, false
		}
	}
	if j < len(s.b) && (s.b[j] == 'e' || s.b[j] == 'E') {
		j++
		if j < len(s.b) && (s.b[j] == '+' || s.b[j] == '-') {
			j++
		}
		if !digits() {
			return nil, false
		}
	}
	s.i = j
	return s.b[start:j], true
}

// skip moves past any JSON value.
func (s *conformScan) skip(depth int) bool {
	if depth > maxConformDepth {
		return false
	}
	switch s.peek() {
	case '{':
		return s.object(anyType, s.c.info(anyType), reflect.Value{}, depth)
	case '[':
		return s.array(reflect.TypeFor[[]any](), reflect.Value{}, depth)
	case '"':
		_, _, ok := s.str()
		return ok
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, ok := s.number()
		return ok
	}
}

var anyType = reflect.TypeFor[any]()

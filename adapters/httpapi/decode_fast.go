package httpapi

import (
	"reflect"
	"strconv"
)

// conforms reports whether body is one JSON value that checkTree would find nothing wrong
// with for type t: every object key a property t knows (exactly: encoding/json would also
// take "Actor" for "actor", checkTree does not), every value of the kind its property's
// type reads. It reads the bytes as they are, building nothing, so that a body that
// conforms costs one pass before json.Unmarshal. It answers false whenever it is not
// sure (a property name written with escapes, a type that decodes itself, nesting deeper
// than maxConformDepth, anything malformed): decodeStrictWith then takes the slow path,
// which finds and names every problem as before. false never means the body is wrong;
// true with a body json.Unmarshal refuses goes the slow path too.
func conforms(c *fieldCache, body []byte, t reflect.Type) bool {
	s := conformScan{b: body, c: c}
	if !s.value(t, 0) {
		return false
	}
	s.space()
	return s.i == len(s.b)
}

// maxConformDepth bounds the nesting conforms follows; deeper bodies take the slow path.
const maxConformDepth = 64

// conformScan is conforms' position in the body.
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

// value checks the value at the position against t and moves past it.
func (s *conformScan) value(t reflect.Type, depth int) bool {
	if depth > maxConformDepth {
		return false
	}
	if s.peek() == 'n' {
		return s.literal("null") // null leaves the zero value, whatever the type
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if pt := reflect.PointerTo(t); pt.Implements(jsonUnmarshaler) || pt.Implements(textUnmarshaler) {
		return false // checkTree lets the type try the value alone
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return s.object(t, depth)
	case reflect.Slice, reflect.Array:
		return s.array(t.Elem(), depth)
	case reflect.String:
		_, _, ok := s.str()
		return ok
	case reflect.Bool:
		return s.literal("true") || s.literal("false")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := s.number()
		if !ok {
			return false
		}
		_, err := strconv.ParseInt(string(n), 10, 64)
		return err == nil
	case reflect.Float32, reflect.Float64:
		_, ok := s.number()
		return ok
	default: // an interface (or a kind JSON cannot fill, which checkTree leaves alone)
		return s.skip(depth)
	}
}

// object checks an object holding t's properties (a struct), or values of t's element type
// (a map), or any values (an interface).
func (s *conformScan) object(t reflect.Type, depth int) bool {
	if empty, ok := s.open('{', '}'); empty || !ok {
		return ok
	}
	var fields map[string]reflect.Type
	elem := anyType
	switch t.Kind() {
	case reflect.Struct:
		fields = s.c.fields(t)
	case reflect.Map:
		elem = t.Elem()
	}
	for {
		key, escaped, ok := s.str()
		if !ok {
			return false
		}
		ft := elem
		if fields != nil {
			if ft, ok = fields[string(key)]; !ok || escaped {
				return false
			}
		}
		if s.peek() != ':' {
			return false
		}
		s.i++
		if !s.value(ft, depth+1) {
			return false
		}
		if more, ok := s.after('}'); !more {
			return ok
		}
	}
}

// array checks an array of values of type elem.
func (s *conformScan) array(elem reflect.Type, depth int) bool {
	if empty, ok := s.open('[', ']'); empty || !ok {
		return ok
	}
	for {
		if !s.value(elem, depth+1) {
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
		return s.object(anyType, depth)
	case '[':
		return s.array(anyType, depth)
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

package httpapi

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// encodingJSON is what writeJSON wrote before appendJSON: v through encoding/json without
// HTML escaping, with its newline.
func encodingJSON(t testing.TB, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return buf.Bytes()
}

// trickyStrings are strings whose JSON escaping differs between encoders if any does.
var trickyStrings = []string{
	"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
	"Ана Гарсія", "emoji 😀", "\u2028 and \u2029", "bad utf-8 \xff\xfe \xe2\x82", "\ufffd", "end\\",
}

// fillAll sets every field of the value v points to, recursively, from rng: strings from
// trickyStrings, times of every precision, every pointer allocated. Zero values come up
// too, so that omitted properties are compared as well.
func fillAll(rng *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if rng.IntN(5) == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(rng, v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			if rng.IntN(4) > 0 {
				ts := time.Unix(rng.Int64N(4_000_000_000), rng.Int64N(1e9)*int64(rng.IntN(2))).UTC()
				v.Set(reflect.ValueOf(ts))
			}
			return
		}
		for i := range v.NumField() {
			fillAll(rng, v.Field(i))
		}
	case reflect.String:
		v.SetString(trickyStrings[rng.IntN(len(trickyStrings))])
	case reflect.Int:
		v.SetInt(rng.Int64N(2000) - 1000)
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	default:
		panic("fillAll: no case for " + v.Kind().String())
	}
}

// TestAppendJSONMatchesEncodingJSON holds every jsonAppender's bytes to encoding/json's
// for random values of every field (a property added to the type and not to appendJSON
// shows here).
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 1))
	for _, newValue := range []func() jsonAppender{
		func() jsonAppender { return new(wireProcess) },
		func() jsonAppender { return new(wireProcessMetadata) },
	} {
		for range 2000 {
			p := newValue()
			fillAll(rng, reflect.ValueOf(p).Elem())
			v := reflect.ValueOf(p).Elem().Interface().(jsonAppender)
			got, ok := v.appendJSON(nil)
			require.True(t, ok)
			require.Equal(t, string(encodingJSON(t, v)), string(got)+"\n")
		}
	}
}

// TestAppendJSONStringMatchesEncodingJSON compares the string escaping with
// encoding/json's on every byte value, alone and between letters.
func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for c := range 256 {
		for _, s := range []string{string(rune(c)), string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + "b"} {
			want := strings.TrimSuffix(string(encodingJSON(t, s)), "\n")
			require.Equal(t, want, string(appendJSONString(nil, s)), "%q", s)
		}
	}
}

// FuzzAppendJSONString compares the string escaping with encoding/json's.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.TrimSuffix(string(encodingJSON(t, s)), "\n")
		require.Equal(t, want, string(appendJSONString(nil, s)))
	})
}

// TestWriteJSONFallsBackForTimesJSONCannotHold checks that a time encoding/json refuses
// answers 500 as it did, not a body appendJSON could not finish.
func TestWriteJSONFallsBackForTimesJSONCannotHold(t *testing.T) {
	p := wireProcess{ID: "p", CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	_, ok := p.appendJSON(nil)
	require.False(t, ok)
	for _, write := range []func(http.ResponseWriter){
		func(w http.ResponseWriter) { writeJSON(w, 201, p) },
		func(w http.ResponseWriter) { (&Handler{}).writeAppender(w, 201, p) },
	} {
		rec := httptest.NewRecorder()
		write(rec)
		require.Equal(t, 500, rec.Code)
		require.JSONEq(t, `{"meta":{"code":500},"error":{"type":"internal_error","message":"Internal server error."}}`, rec.Body.String())
	}
}

// TestWriteAppenderReusesNoAnswer writes answers one after another through one Handler,
// whose buffer is reused: each answer is whole, and none shows another's bytes.
func TestWriteAppenderReusesNoAnswer(t *testing.T) {
	h := &Handler{}
	for _, id := range []string{"a-long-process-identifier", "b", "c-medium-id"} {
		rec := httptest.NewRecorder()
		h.writeAppender(rec, 200, wireProcess{ID: id, Actor: wireActor{Name: "Ana"}})
		var got wireProcess
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		require.Equal(t, id, got.ID)
		require.Equal(t, string(encodingJSON(t, wireProcess{ID: id, Actor: wireActor{Name: "Ana"}})), rec.Body.String())
	}
}

package httpapi

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/verifykit/verifykit/identification/otpprocess"
)

// kitchenBody has a property of every kind the strict decoder reads.
type kitchenBody struct {
	Name   string            `json:"name"`
	Count  int               `json:"count"`
	Small  uint8             `json:"small"`
	Ratio  float64           `json:"ratio"`
	On     bool              `json:"on"`
	Any    any               `json:"any"`
	Labels map[string]string `json:"labels"`
	Nested map[string][]int  `json:"nested"`
	Pair   [2]string         `json:"pair"`
	Ptr    *testInner        `json:"ptr"`
	Bytes  []byte            `json:"bytes"`
	testEmbedded
}

type testEmbedded struct {
	Extra string `json:"extra"`
}

// plainBody is a plain type (typeInfo.plain) of every kind decodeFast fills itself.
type plainBody struct {
	Name   string      `json:"name"`
	Kind   namedString `json:"kind,omitempty"`
	Count  int         `json:"count"`
	Small  uint8       `json:"small"`
	Tiny   int8        `json:"tiny"`
	Ratio  float32     `json:"ratio"`
	Big    float64     `json:"big"`
	On     bool        `json:"on"`
	Ptr    *testInner  `json:"ptr"`
	PtrPtr **string    `json:"ptr_ptr"`
	List   []testInner `json:"list"`
	Names  []string    `json:"names"`
	Untag  string
}

type namedString string

// decodeTargets are the body types the Handler's routes decode, and a few more kinds.
var decodeTargets = []func() any{
	func() any { return new(createProcessBody) },
	func() any { return new(createPersonRequestBody) },
	func() any { return new(deactivateBody) },
	func() any { return new(updateProfileBody) },
	func() any { return new(viewResetRequestsBody) },
	func() any { return new(resetIdentificationBody) },
	func() any { return new(setIdentificationStatusBody) },
	func() any { return new(struct{}) },
	func() any { return new(testBody) },
	func() any { return new(kitchenBody) },
	func() any { return new(plainBody) },
	func() any { return &viewResetRequestsBody{PageSize: 10} }, // filled in before: json.Unmarshal's way
	func() any { return &createProcessBody{Actor: wireActor{MSISDN: &wireMSISDN{CountryCode: "380"}}} },
}

// decodeSeeds are bodies that conform and bodies that do not in every way the strict
// decoder tells apart.
var decodeSeeds = []string{
	`{"actor":{"name":"Ana","msisdn":{"country_code":"34","phone_number":"699999999"}},"channel":{"type":"SMS"}}`,
	` {"actor" : {"name":"Ана Гарсія","email":"a@b.c","identity_document":{"document_type":"DNI"}} , "expires_in":"PT5M", "channel":{"type":"EMAIL","external":true}} `,
	`{"actor":{"name":"A\u004e\"a\\"},"channel":{"type":"SMS"}}`,
	`{"Actor":{"name":"Ana"}}`,
	`{"actor":{"NAME":"Ana"}}`,
	`{"\u0061ctor":{"name":"Ana"}}`,
	`{"actor":{"name":"Ana"},"unknown":1,"other":{"x":[1]}}`,
	`{"actor":{"name":5,"msisdn":"34"},"channel":{"external":"yes"}}`,
	`{"actor":null,"channel":null}`,
	`{"actor":{"name":"Ana"},"actor":{"name":7}}`,
	`{"actor":{"name":7},"actor":{"name":"Ana"}}`,
	`{"actor":{"name":"Ana"}} {}`,
	`{"actor":{"name":"Ana"}}x`,
	`{"actor":{"name":"Ana"},}`,
	`{"actor":{"name":"Ana"}`,
	`{"actor":{"name":"Ana` + "\x01" + `"}}`,
	`{"actor":{"name":"` + "\xff\xfe" + `"}}`,
	`{"person":{"first_name":"Petro","documents":[{"type":"BIRTH_CERTIFICATE","number":"I-AB 1"}],"authentication_methods":[{"type":"OTP","phone_number":"+380930000123","is_primary":true}]}}`,
	`{"person":{"documents":[{"number":1e400}]}}`,
	`{"person":{"documents":{"number":"1"}}}`,
	`{"third_person":{"first_name":"x"},"person":{"authentication_methods":[{"is_primary":"true"}]}}`,
	`{"changes":[{"path":"address.city","value":"Lviv"},{"path":"x","value":null}]}`,
	`{"filter":{"status":"PENDING"},"pageNumber":0,"pageSize":10}`,
	`{"pageNumber":1.5,"pageSize":-3}`,
	`{"pageNumber":1e2,"pageSize":99999999999999999999}`,
	`{"pageNumber":-0,"pageSize":01}`,
	`{"fields":["address.city",null,3]}`,
	`{"status":"APPROVED"}`,
	`{}`, `[]`, `null`, `""`, `1`, `true`, ``, ` `, `{`, `}`, `[{}]`, `{"":1}`,
	`{"name":"x","tags":["a"],"inner":{"count":3},"list":[{"count":1},{"count":-2}],"flag":true,"when":"2026-01-02T03:04:05Z"}`,
	`{"when":"yesterday"}`,
	`{"when":12}`,
	`{"inner":{"count":1e400}}`,
	`{"name":"x","count":-7,"small":255,"ratio":-1.5e-3,"on":false,"any":{"a":[1,"b",{"c":null}],"d":true},"labels":{"k":"v","\u00e9":"w"},"nested":{"a":[1,2],"b":null},"pair":["a","b"],"ptr":{"count":2},"extra":"e"}`,
	`{"bytes":"aGk="}`,
	`{"small":256}`, `{"small":-1}`, `{"count":"1"}`, `{"ratio":"1"}`, `{"on":1}`, `{"labels":{"k":1}}`, `{"nested":{"a":[1.5]}}`,
	`{"pair":["a","b","c"]}`, `{"bytes":[1,2]}`, `{"bytes":"!!"}`, `{"any":tru}`, `{"any":[1,]}`, `{"count":-}`, `{"count":1.}`, `{"ratio":.5}`, `{"ratio":1e}`,
	`{"Extra":"e"}`, `{"testEmbedded":{"extra":"e"}}`,
	`{"name":"n","kind":"K","count":-3,"small":7,"tiny":-128,"ratio":1.5,"big":-2.5e300,"on":true,"ptr":{"code":"c","count":1},"ptr_ptr":"pp","list":[{"code":"a"},{},{"count":2}],"names":["x","y"],"Untag":"u"}`,
	`{"list":[],"names":null,"ptr":null,"ptr_ptr":null,"on":false}`,
	`{"tiny":128}`, `{"tiny":-129}`, `{"ratio":1e39}`, `{"big":1e309}`, `{"small":1.0}`, `{"count":9223372036854775808}`,
	`{"name":"a","name":"b"}`, `{"ptr":{"code":"a"},"ptr":{"count":1}}`, `{"list":[{"code":"a"}],"list":[{"count":1}]}`,
	`{"names":["é"]}`, `{"names":["` + "ÿ" + `"]}`, `{"untag":"u"}`, `{"UNTAG":"u"}`,
	`{"actor":{"msisdn":{"phone_number":"600"}}}`,
	strings.Repeat(`{"any":`, 80) + `1` + strings.Repeat(`}`, 80),
	strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100),
}

// requireSameDecoding fails t unless decodeStrictWith (with its fast path) and decodeTree
// (the slow path alone) answer the same error and the same value for body.
func requireSameDecoding(t *testing.T, c *fieldCache, newDst func() any, body []byte) {
	t.Helper()
	fast, slow := newDst(), newDst()
	errFast := decodeStrictWith(c, body, fast)
	errSlow := decodeTree(c, body, slow, reflect.TypeOf(slow).Elem())
	require.Equal(t, errSlow, errFast, "%T %q", fast, body)
	if errSlow == nil {
		require.Equal(t, slow, fast, "%T %q", fast, body)
	}
}

// TestDecodeStrictFastPathAgreesWithTree checks the fast path of the strict decoder
// against the slow path on every seed body for every body type: the same errors, the
// same values.
func TestDecodeStrictFastPathAgreesWithTree(t *testing.T) {
	var c fieldCache
	for _, newDst := range decodeTargets {
		for _, body := range decodeSeeds {
			requireSameDecoding(t, &c, newDst, []byte(body))
			requireSameDecoding(t, nil, newDst, []byte(body))
		}
	}
}

// TestConformingBodiesTakeTheFastPath pins that the bodies of the measured routes do not
// build a tree.
func TestConformingBodiesTakeTheFastPath(t *testing.T) {
	var c fieldCache
	for _, tc := range []struct {
		dst  any
		body string
	}{
		{new(createProcessBody), seedWith(t, `{"actor":{"name":"Ana","msisdn"`)},
		{new(createProcessBody), seedWith(t, ` {"actor" : {"name":"Ана`)},
		{new(createProcessBody), seedWith(t, `{"actor":{"name":"A\u004e`)},
		{new(createPersonRequestBody), seedWith(t, `{"person":{"first_name":"Petro"`)},
		{new(kitchenBody), seedWith(t, `{"name":"x","count":-7`)},
	} {
		require.True(t, conforms(&c, []byte(tc.body), reflect.TypeOf(tc.dst).Elem()), tc.body)
	}
	for _, tc := range []struct {
		dst  any
		body string
	}{
		{new(createProcessBody), seedWith(t, `{"actor":{"name":"Ana","msisdn"`)},
		{new(createProcessBody), seedWith(t, ` {"actor" : {"name":"Ана`)},
		{new(createPersonRequestBody), seedWith(t, `{"person":{"first_name":"Petro"`)},
		{new(plainBody), seedWith(t, `{"name":"n","kind":"K"`)},
	} {
		_, ok := decodeFast(&c, []byte(tc.body), reflect.TypeOf(tc.dst).Elem())
		require.True(t, ok, tc.body)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[kitchenBody](), reflect.TypeFor[testBody]()} {
		require.False(t, c.info(typ).plain, typ.String()) // an interface, a map, an array, bytes, an embedded struct, a time
	}
	for _, body := range []string{`{"Actor":{}}`, `{"\u0061ctor":{}}`, `{"actor":{"name":5}}`, `{"unknown":1}`, `{} x`} {
		require.False(t, conforms(&c, []byte(body), reflect.TypeFor[createProcessBody]()), body)
	}
}

// seedWith returns the seed body that starts with prefix.
func seedWith(t *testing.T, prefix string) string {
	for _, s := range decodeSeeds {
		if strings.HasPrefix(s, prefix) {
			return s
		}
	}
	t.Fatalf("no seed starts with %s", prefix)
	return ""
}

// FuzzDecodeStrictFastPath mutates the seed bodies: the fast path and the slow path must
// always agree.
func FuzzDecodeStrictFastPath(f *testing.F) {
	for i, body := range decodeSeeds {
		f.Add([]byte(body), uint8(i))
	}
	var c fieldCache
	f.Fuzz(func(t *testing.T, body []byte, target uint8) {
		requireSameDecoding(t, &c, decodeTargets[int(target)%len(decodeTargets)], body)
	})
}

// TestDecodedBodiesShareNoMemoryWithThePooledBuffer decodes bodies one after another
// through one Handler, whose body buffer is reused: what an earlier decode filled in must
// not change when a later body is read into the same buffer.
func TestDecodedBodiesShareNoMemoryWithThePooledBuffer(t *testing.T) {
	h := &Handler{}
	var got []createProcessBody
	for _, name := range []string{"Ana", "Bob", "Eve", "Ann"} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(`{"actor":{"name":"`+name+`","msisdn":{"country_code":"34","phone_number":"600111222"}},"channel":{"type":"SMS"}}`))
		r.Header.Set("Content-Type", "application/json")
		var b createProcessBody
		require.NoError(t, h.decodeJSON(r, &b, false))
		got = append(got, b)
	}
	for i, name := range []string{"Ana", "Bob", "Eve", "Ann"} {
		require.Equal(t, name, got[i].Actor.Name)
		require.Equal(t, "600111222", got[i].Actor.MSISDN.PhoneNumber)
		require.Equal(t, otpprocess.ChannelSMS, got[i].Channel.Type)
	}
}

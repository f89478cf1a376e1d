package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

const (
	prBase      = "/api/person_requests"
	phonePerson = "+380931234585"
	phoneThird  = "+380501112233"
	msgNoScope  = "Your scope does not allow to access this resource. Missing allowances: "
)

// personRequestBody is a create body: the person's own phone is primary, the mother (a
// third person with a phone of her own) is the other method, and one OFFLINE method.
func personRequestBody(phone string) string {
	return fmt.Sprintf(`{"person":{"first_name":"Petro","last_name":"Ivanenko","second_name":"Mykolaiovych",
		"documents":[{"type":"BIRTH_CERTIFICATE","number":"I-AB 123456"}],
		"authentication_methods":[{"type":"OTP","alias":"own phone","phone_number":"%s","is_primary":true},
			{"type":"THIRD_PERSON","alias":"mother"},{"type":"OFFLINE","alias":"in person"}]},
	"third_person":{"first_name":"Olena","last_name":"Ivanenko",
		"documents":[{"type":"PASSPORT","number":"CD654321"}],
		"authentication_methods":[{"type":"OTP","phone_number":"%s","is_primary":true}]}}`, phone, phoneThird)
}

func (e *fullEnv) registrar() string {
	return e.token("registrar", ports.Claims{Subject: "registrar", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead}})
}

// requireError checks an error body: meta code and request id, type and message.
func requireError(t *testing.T, body map[string]any, code int, typ, msg string) {
	t.Helper()
	m, ok := body["meta"].(map[string]any)
	require.True(t, ok, "meta: %v", body)
	require.EqualValues(t, code, m["code"])
	require.NotEmpty(t, m["request_id"])
	e := errorOf(t, body)
	require.Equal(t, typ, e["type"])
	if msg != "" {
		require.Equal(t, msg, e["message"])
	}
}

// entries returns the JSONPaths of an error body's invalid entries.
func entries(t *testing.T, body map[string]any) []string {
	t.Helper()
	var out []string
	list, _ := errorOf(t, body)["invalid"].([]any)
	for _, in := range list {
		out = append(out, in.(map[string]any)["entry"].(string))
	}
	return out
}

// data returns the "data" object of an eHealth answer, checking its meta.
func data(t *testing.T, body map[string]any, code int, path string) map[string]any {
	t.Helper()
	m := body["meta"].(map[string]any)
	require.EqualValues(t, code, m["code"])
	require.Equal(t, path, m["url"])
	require.Equal(t, "object", m["type"])
	require.NotEmpty(t, m["request_id"])
	return body["data"].(map[string]any)
}

func urgentOf(d map[string]any) (current map[string]any, methods, docs []any) {
	u := d["urgent"].(map[string]any)
	return u["authentication_method_current"].(map[string]any), u["authentication_methods"].([]any), u["documents"].([]any)
}

func TestPersonRequestJourney(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	tok := e.registrar()

	created := data(t, call(t, h, "POST", prBase, tok, personRequestBody(phonePerson), 201), 201, prBase)
	id := created["id"].(string)
	path := prBase + "/" + id
	require.Equal(t, "NEW", created["status"])
	require.Equal(t, "Petro", created["person"].(map[string]any)["first_name"])
	require.Equal(t, "Olena", created["third_person"].(map[string]any)["first_name"])
	current, methods, docs := urgentOf(created)
	require.Equal(t, map[string]any{"type": "OTP", "alias": "own phone", "phone_number": "+38093*****85", "is_primary": true}, current)
	require.Len(t, methods, 3)
	require.Equal(t, map[string]any{"type": "THIRD_PERSON", "alias": "mother", "phone_number": "+38050*****33", "is_primary": false}, methods[1])
	require.Len(t, docs, 2)
	firstURL := docs[0].(map[string]any)["url"]
	require.Equal(t, "person.BIRTH_CERTIFICATE", docs[0].(map[string]any)["type"])
	first := e.lastCode(t, phonePerson)

	// Resend through the primary (no body): a new code, new upload URLs.
	e.clock.Advance(31 * time.Second)
	resent := data(t, call(t, h, "POST", path+"/actions/resend_auth_method", tok, "", 200), 200, path+"/actions/resend_auth_method")
	_, _, docs = urgentOf(resent)
	require.NotEqual(t, firstURL, docs[0].(map[string]any)["url"], "upload URLs are issued anew")
	second := e.lastCode(t, phonePerson)
	require.NotEqual(t, first, second)

	// The old code is refused.
	old := call(t, h, "PATCH", path+"/actions/approve", tok, `{"verification_code":"`+first+`"}`, 422)
	requireError(t, old, 422, "validation_failed", otp.MsgInvalidCode)
	require.Equal(t, []string{"$.verification_code"}, entries(t, old), "the property of this route")

	// The older resend_otp path, to the mother: the code goes to her phone.
	e.clock.Advance(31 * time.Second)
	viaMother := data(t, call(t, h, "POST", path+"/actions/resend_otp", tok, `{"alias":"mother"}`, 200), 200, path+"/actions/resend_otp")
	current, _, _ = urgentOf(viaMother)
	require.Equal(t, "THIRD_PERSON", current["type"])
	require.Equal(t, "+38050*****33", current["phone_number"])
	mothers := e.lastCode(t, phoneThird)
	requireError(t, call(t, h, "PATCH", path+"/actions/approve", tok, `{"verification_code":"`+second+`"}`, 422), 422, "validation_failed", otp.MsgInvalidCode)

	// The new code approves; repeating the approval with it answers the approved request
	// again (idempotent), any other code the conflict.
	approved := data(t, call(t, h, "PATCH", path+"/actions/approve", tok, `{"verification_code":"`+mothers+`"}`, 200), 200, path+"/actions/approve")
	require.Equal(t, "APPROVED", approved["status"])
	again := data(t, call(t, h, "PATCH", path+"/actions/approve", tok, `{"verification_code":" `+mothers+` "}`, 200), 200, path+"/actions/approve")
	require.Equal(t, approved, again)
	requireError(t, call(t, h, "PATCH", path+"/actions/approve", tok, `{"verification_code":"`+second+`"}`, 409), 409, "request_conflict", personrequest.MsgIncorrectStatus)
	requireError(t, call(t, h, "POST", path+"/actions/resend_auth_method", tok, "", 409), 409, "request_conflict", personrequest.MsgIncorrectStatus)

	signed := data(t, call(t, h, "PATCH", path+"/actions/sign", tok, "", 200), 200, path+"/actions/sign")
	require.Equal(t, "SIGNED", signed["status"])
	requireError(t, call(t, h, "PATCH", path+"/actions/reject", tok, "", 409), 409, "request_conflict", personrequest.MsgIncorrectStatus)
	got := data(t, call(t, h, "GET", path, tok, "", 200), 200, path)
	require.Equal(t, "SIGNED", got["status"])
}

func TestPersonRequestRejectCancelAndOffline(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	tok := e.registrar()
	for i, action := range []string{"reject", "cancel"} {
		want := map[string]string{"reject": "REJECTED", "cancel": "CANCELLED"}[action]
		d := data(t, call(t, h, "POST", prBase, tok, personRequestBody(fmt.Sprintf("+38093000000%d", i)), 201), 201, prBase)
		path := prBase + "/" + d["id"].(string) + "/actions/" + action
		done := data(t, call(t, h, "PATCH", path, tok, "{}", 200), 200, path)
		require.Equal(t, want, done["status"])
	}
	// An OFFLINE primary: no code, approve with an empty body.
	offline := `{"person":{"first_name":"Ivan","last_name":"Franko","authentication_methods":[{"type":"OFFLINE","is_primary":true}]}}`
	d := data(t, call(t, h, "POST", prBase, tok, offline, 201), 201, prBase)
	current, _, _ := urgentOf(d)
	require.Equal(t, map[string]any{"type": "OFFLINE", "is_primary": true}, current, "no phone, no alias")
	path := prBase + "/" + d["id"].(string)
	requireError(t, call(t, h, "POST", path+"/actions/resend_auth_method", tok, "", 422), 422, "validation_failed", personrequest.MsgNotOTP)
	require.Equal(t, "APPROVED", data(t, call(t, h, "PATCH", path+"/actions/approve", tok, "", 200), 200, path+"/actions/approve")["status"])
}

// TestPersonRequestStatuses covers every status the person-request routes answer, with its
// body.
func TestPersonRequestStatuses(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	tok := e.registrar()
	reader := e.token("reader", ports.Claims{Subject: "r", Scopes: []string{personrequest.ScopeRead}})
	e.tokens.Add("expired", ports.Claims{Subject: "x", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead}, ExpiresAt: t0.Add(-time.Second)})
	id := data(t, call(t, h, "POST", prBase, tok, personRequestBody(phonePerson), 201), 201, prBase)["id"].(string)
	path := prBase + "/" + id
	resend := path + "/actions/resend_auth_method"

	t.Run("401 missing, unknown and expired tokens", func(t *testing.T) {
		for _, token := range []string{"", "nope", "expired"} {
			requireError(t, call(t, h, "POST", resend, token, "", 401), 401, "access_denied", "Invalid access token")
			requireError(t, call(t, h, "GET", path, token, "", 401), 401, "access_denied", "Invalid access token")
		}
		// A scheme other than Bearer is no token.
		req := newRequest("GET", path, "", "")
		req.Header.Set("Authorization", "Basic "+tok)
		requireError(t, decode(t, serveReq(h, req), 401), 401, "access_denied", "Invalid access token")
	})
	t.Run("403 with the missing scope", func(t *testing.T) {
		requireError(t, call(t, h, "POST", resend, reader, "", 403), 403, "forbidden", msgNoScope+personrequest.ScopeWrite)
		requireError(t, call(t, h, "PATCH", path+"/actions/approve", reader, `{"verification_code":"1234"}`, 403), 403, "forbidden", msgNoScope+personrequest.ScopeWrite)
	})
	t.Run("404", func(t *testing.T) {
		requireError(t, call(t, h, "POST", prBase+"/00000000-0000-0000-0000-000000000000/actions/resend_otp", tok, "", 404), 404, "not_found", personrequest.MsgNotFound)
		requireError(t, call(t, h, "GET", prBase+"/nope", tok, "", 404), 404, "not_found", personrequest.MsgNotFound)
		requireError(t, call(t, h, "POST", prBase+"/x/actions/nothing", tok, "", 404), 404, "not_found", "")
	})
	t.Run("422 from the domain, with entries", func(t *testing.T) {
		body := call(t, h, "POST", resend, tok, `{"alias":"uncle"}`, 422)
		requireError(t, body, 422, "validation_failed", "Validation failed.")
		require.Equal(t, []string{"$.alias"}, entries(t, body))
		bad := call(t, h, "POST", prBase, tok, `{"person":{"first_name":"","last_name":"X","documents":[{"type":"PASSPORT","number":""}],"authentication_methods":[{"type":"OTP","phone_number":"12","is_primary":true}]}}`, 422)
		require.Equal(t, []string{"$.person.first_name", "$.person.documents[0].number", "$.person.authentication_methods[0].phone_number"}, entries(t, bad))
		requireError(t, call(t, h, "PATCH", path+"/actions/approve", tok, `{"verification_code":"12ab"}`, 422), 422, "validation_failed", "")
	})
	t.Run("422 strict decoding: wrong types and unknown properties", func(t *testing.T) {
		body := call(t, h, "POST", prBase, tok, `{"person":{"first_name":1,"last_name":"X","documents":[{"type":"PASSPORT","number":123}],"authentication_methods":[{"type":"OTP","is_primary":"yes"}],"age":3},"extra":true}`, 422)
		requireError(t, body, 422, "validation_failed", "Validation failed.")
		require.Equal(t, []string{"$.extra", "$.person.age", "$.person.authentication_methods[0].is_primary", "$.person.documents[0].number", "$.person.first_name"}, entries(t, body))
		require.Equal(t, []string{"$.code"}, entries(t, call(t, h, "PATCH", path+"/actions/approve", tok, `{"code":"1234"}`, 422)))
		require.Equal(t, []string{"$.verification_code"}, entries(t, call(t, h, "PATCH", path+"/actions/approve", tok, `{"verification_code":1234}`, 422)))
		require.Equal(t, []string{"$.reason"}, entries(t, call(t, h, "PATCH", path+"/actions/cancel", tok, `{"reason":"x"}`, 422)))
	})
	t.Run("400 malformed and empty", func(t *testing.T) {
		requireError(t, call(t, h, "POST", prBase, tok, `{"person":`, 400), 400, "bad_request", "")
		requireError(t, call(t, h, "POST", prBase, tok, ``, 400), 400, "bad_request", "The request body is empty; a JSON object is expected.")
		requireError(t, call(t, h, "POST", resend, tok, `{"alias":"a"}{}`, 400), 400, "bad_request", "")
	})
	t.Run("413, 415 and 405", func(t *testing.T) {
		huge := `{"alias":"` + strings.Repeat("a", 2<<20) + `"}`
		requireError(t, call(t, h, "POST", resend, tok, huge, 413), 413, "request_too_large", "")
		requireError(t, call(t, h, "POST", prBase, tok, huge, 413), 413, "request_too_large", "")
		req := newRequest("POST", resend, tok, `{"alias":"mother"}`)
		req.Header.Set("Content-Type", "text/plain")
		requireError(t, decode(t, serveReq(h, req), 415), 415, "unsupported_media_type", "")
		for method, route := range map[string]string{"POST": path + "/actions/approve", "GET": resend, "DELETE": path, "PUT": prBase, "PATCH": resend} {
			rec := serve(h, method, route, tok, "")
			require.Equal(t, http.StatusMethodNotAllowed, rec.Code, method+" "+route)
			requireError(t, decode(t, rec, 405), 405, "method_not_allowed", "The method "+method+" is not allowed on this route.")
			require.NotEmpty(t, rec.Header().Get("Allow"))
		}
		require.Equal(t, "PATCH", serve(h, "POST", path+"/actions/sign", tok, "").Header().Get("Allow"))
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		rec := serve(h, "POST", resend, tok, "")
		require.Equal(t, http.StatusTooManyRequests, rec.Code, rec.Body.String())
		requireError(t, decode(t, rec, 429), 429, "rate_limited", "")
		require.NotEmpty(t, rec.Header().Get("Retry-After"))
	})
	t.Run("503 when the SMS cannot be delivered", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		e.sms.FailNext(10, true)
		requireError(t, call(t, h, "POST", resend, tok, "", 503), 503, "unavailable", "")
		requireError(t, call(t, h, "POST", prBase, tok, personRequestBody("+380930000009"), 503), 503, "unavailable", "")
	})
}

package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/ports"
)

const otpBase = "/v1/orgs/org-a/identifications/otp"

func processActor(phone string) string {
	return fmt.Sprintf(`{"actor":{"name":"Ana","last_name":"Ruiz","email":"ana@example.com",
		"msisdn":{"country_code":"34","phone_number":"%s"},
		"identity_document":{"document_type":"ID_CARD","document_number":"X1234567L","country":"ES"},"language":"es"},
		"expires_in":"P7D","two_factor_type":"DOCUMENT_NUMBER","channel":{"type":"SMS","external":false}}`, phone)
}

func (e *fullEnv) processTokens() (admin, actor, boss, other string) {
	adminScopes := []string{otpprocess.DefaultAdminScope}
	admin = e.token("admin-a", ports.Claims{Subject: "op", OrgID: "org-a", Scopes: adminScopes})
	actor = e.token("actor-a", ports.Claims{Subject: "actor", OrgID: "org-a", Scopes: []string{otpprocess.DefaultActorScope}})
	boss = e.token("boss-a", ports.Claims{Subject: "boss", OrgID: "org-a", Scopes: adminScopes, Permissions: []string{otpprocess.DefaultForceDeletePermission}})
	other = e.token("admin-b", ports.Claims{Subject: "op-b", OrgID: "org-b", Scopes: adminScopes})
	return
}

func TestProcessJourney(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	admin, actor, boss, other := e.processTokens()

	created := call(t, h, "POST", otpBase, admin, processActor("600111222"), 201)
	id := created["id"].(string)
	require.Equal(t, "CREATED", created["status"])
	require.NotContains(t, created, "code", "an SMS process never answers its code")
	code := e.lastCode(t, "+34600111222")

	meta := call(t, h, "GET", otpBase+"/"+id, actor, "", 200)
	require.Equal(t, "+3460*****22", meta["masked_contact"])
	require.NotContains(t, fmt.Sprint(meta), "X1234567L")

	call(t, h, "GET", "/v1/orgs/org-b/identifications/otp/"+id+"/details", other, "", 404)
	wrong := call(t, h, "PUT", otpBase+"/"+id+"/validate", actor, `{"code":"`+code+`","two_factor":"nope"}`, 422)
	require.Equal(t, otpprocess.MsgInvalidTwoFactor, errorOf(t, wrong)["message"])
	call(t, h, "PUT", otpBase+"/"+id+"/validate", actor, `{"code":"`+code+`","two_factor":" x1234567l "}`, 204)
	details := call(t, h, "GET", otpBase+"/"+id+"/details", admin, "", 200)
	require.Equal(t, "VALIDATED", details["status"])
	require.EqualValues(t, 1, details["failed_attempts"])

	call(t, h, "POST", otpBase+"/"+id+"/cancel", admin, `{"reason":"late"}`, 409)
	call(t, h, "POST", otpBase+"/"+id+"/resend", admin, "", 409)
	call(t, h, "DELETE", otpBase+"/"+id, admin, "", 403)
	call(t, h, "DELETE", otpBase+"/"+id+"?force=true", admin, "", 403)
	call(t, h, "DELETE", otpBase+"/"+id+"?force=maybe", boss, "", 422)
	call(t, h, "DELETE", otpBase+"/"+id+"?force=true", boss, "", 204)
	call(t, h, "GET", otpBase+"/"+id+"/details", admin, "", 404)
}

func TestProcessAdminRoutes(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	admin, _, _, _ := e.processTokens()

	bad := call(t, h, "POST", otpBase, admin, `{"actor":{"name":"A"},"expires_in":"P31D","channel":{"type":"SMS"}}`, 400)
	require.Equal(t, "bad_request", errorOf(t, bad)["type"])
	require.NotEmpty(t, errorOf(t, bad)["invalid"])
	strict := call(t, h, "POST", otpBase, admin, `{"actor":{"name":"A","age":3},"channel":{"type":"SMS"}}`, 400)
	require.Equal(t, "$.actor.age", errorOf(t, strict)["invalid"].([]any)[0].(map[string]any)["entry"])

	first := call(t, h, "POST", otpBase, admin, processActor("600000001"), 201)["id"].(string)
	second := call(t, h, "POST", otpBase, admin, processActor("600000002"), 201)["id"].(string)
	call(t, h, "POST", otpBase+"/"+first+"/cancel", admin, `{}`, 400)
	call(t, h, "POST", otpBase+"/"+first+"/cancel", admin, `{"reason":"duplicate"}`, 204)

	list := call(t, h, "GET", otpBase+"?status=CREATED", admin, "", 200)
	require.EqualValues(t, 1, list["total"])
	require.Equal(t, second, list["processes"].([]any)[0].(map[string]any)["id"])
	call(t, h, "GET", otpBase+"?limit=x", admin, "", 400)

	external := call(t, h, "POST", otpBase, admin, `{"actor":{"name":"Ana","email":"ana@example.com"},"channel":{"type":"EMAIL","external":true}}`, 201)
	require.Len(t, external["code"], 6, "an external channel's code is answered once")
	e.clock.Advance(31 * time.Second) // past the send limit's 30 s gap
	resent := call(t, h, "POST", otpBase+"/"+external["id"].(string)+"/resend", admin, "", 200)
	require.Len(t, resent["code"], 6)
	require.NotEqual(t, "", resent["id"])
	call(t, h, "DELETE", otpBase+"/"+second, admin, "", 204)
	call(t, h, "POST", otpBase, "", processActor("600000003"), 401)
}

// TestProcessValidateStatuses: the process API answers a malformed validation 400
// (bad_request), and its answers about the code the actor typed 422 (validation_failed),
// the status httpapi alone decides from the domain's KindInvalidInput.
func TestProcessValidateStatuses(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	admin, actor, _, _ := e.processTokens()
	id := call(t, h, "POST", otpBase, admin, processActor("600111444"), 201)["id"].(string)
	code := e.lastCode(t, "+34600111444")
	cases := []struct {
		name, body string
		status     int
		typ, entry string
	}{
		{"no second factor", `{"code":"` + code + `"}`, 400, "bad_request", "$.two_factor"},
		{"a second factor too long", `{"code":"` + code + `","two_factor":"` + strings.Repeat("x", 2049) + `"}`, 400, "bad_request", "$.two_factor"},
		{"a property the route does not know", `{"code":"` + code + `","colour":"red"}`, 400, "bad_request", "$.colour"},
		{"no code", `{"two_factor":"X1234567L"}`, 422, "validation_failed", "$.code"},
		{"a code with letters", `{"code":"12a456","two_factor":"X1234567L"}`, 422, "validation_failed", "$.code"},
		{"a wrong code", `{"code":"` + wrongCode(code) + `","two_factor":"X1234567L"}`, 422, "validation_failed", "$.code"},
		{"a wrong second factor", `{"code":"` + code + `","two_factor":"nope"}`, 422, "validation_failed", "$.two_factor"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := errorOf(t, call(t, h, "PUT", otpBase+"/"+id+"/validate", actor, tc.body, tc.status))
			require.Equal(t, tc.typ, bad["type"])
			require.Equal(t, tc.entry, bad["invalid"].([]any)[0].(map[string]any)["entry"])
		})
	}
	call(t, h, "PUT", otpBase+"/"+id+"/validate", actor, `{"code":"`+code+`","two_factor":"X1234567L"}`, 204)
}

// wrongCode is a code of the same length as code that is not code.
func wrongCode(code string) string {
	if code[0] == '9' {
		return "0" + code[1:]
	}
	return string(code[0]+1) + code[1:]
}

package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

func TestProfileJourney(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	e.addProfile(t, "user-7", ports.IdentificationApproved)
	user := e.token("user", ports.Claims{Subject: "user-7"})
	op := e.token("operator", ports.Claims{Subject: "op-1", Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	clerk := e.token("clerk", ports.Claims{Subject: "clerk"})

	asked := call(t, h, "POST", "/api/v1/profiles/my/reset-identification", user, `{"description":"moved"}`, 201)
	reqID := asked["request"].(map[string]any)["id"].(string)
	call(t, h, "POST", "/api/v1/profiles/my/reset-identification", user, "", 409)

	page := call(t, h, "POST", "/api/v1/profiles/view-reset-identification-requests", op,
		`{"filter":{"status":"PENDING","organizationId":"org-1"},"pageNumber":0,"pageSize":10}`, 200)
	require.Equal(t, "ok", page["status"])
	require.EqualValues(t, 1, page["totalRecords"])
	require.EqualValues(t, 1, page["totalPages"])

	// The seed's endpoint: bad fields are listed with their paths, nothing changes.
	bad := call(t, h, "POST", "/api/v1/profiles/user-7/reset", op, `{"fields":["address.city","no.such",""]}`, 422)
	eb := errorOf(t, bad)
	require.Equal(t, "validation_failed", eb["type"])
	var entries []string
	for _, in := range eb["invalid"].([]any) {
		entries = append(entries, in.(map[string]any)["entry"].(string))
	}
	require.Equal(t, []string{"$.fields[1]", "$.fields[2]"}, entries)
	forbidden := call(t, h, "POST", "/api/v1/profiles/user-7/reset", clerk, `{"fields":["address.city"]}`, 403)
	require.Equal(t, "Your scope does not allow to access this resource. Missing allowances: RESET_IDENTIFICATION_INITIATOR", errorOf(t, forbidden)["message"])
	call(t, h, "POST", "/api/v1/profiles/user-7/reset", "", `{"fields":["address.city"]}`, 401)

	reset := call(t, h, "POST", "/api/v1/profiles/user-7/reset", op, `{"fields":["address.city"]}`, 200)
	require.Equal(t, "ok", reset["status"])
	profile := reset["profile"].(map[string]any)
	require.Equal(t, "none", profile["status"])
	for _, key := range []string{"person", "contact", "type", "business", "address", "additional", "security"} {
		require.Contains(t, profile, key, "the seed's profile shape")
	}
	require.Equal(t, []any{"address.city"}, reset["mandatoryFields"], "the answer shows the mandatory fields it set")
	// The user's pending request was completed by the reset.
	done := call(t, h, "POST", "/api/v1/profiles/view-reset-identification-requests", op, `{"filter":{"status":"APPROVED"},"pageNumber":0,"pageSize":10}`, 200)
	require.Equal(t, reqID, done["records"].([]any)[0].(map[string]any)["id"])

	missing := call(t, h, "POST", "/api/v1/profiles/my/submit-identification", user, "", 422)
	require.Equal(t, identification.MsgMandatoryFieldsMissing, errorOf(t, missing)["message"])
	call(t, h, "PATCH", "/api/v1/profiles/my", user, `{"changes":[{"path":"address.city","value":"Lviv"}]}`, 200)
	submitted := call(t, h, "POST", "/api/v1/profiles/my/submit-identification", user, "", 200)
	require.Equal(t, "pending", submitted["profile"].(map[string]any)["status"])
	mine := call(t, h, "GET", "/api/v1/profiles/my", user, "", 200)
	require.Equal(t, "Lviv", mine["profile"].(map[string]any)["address"].(map[string]any)["city"])
}

func TestProfileDecisionsAndStrictBodies(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	e.addProfile(t, "u1", ports.IdentificationPending)
	user := e.token("user", ports.Claims{Subject: "u1"})
	op := e.token("operator", ports.Claims{Subject: "op-1", Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	asked := call(t, h, "POST", "/api/v1/profiles/my/reset-identification", user, "", 201)
	reqID := asked["request"].(map[string]any)["id"].(string)

	declined := call(t, h, "POST", "/api/v1/profiles/u1/reset-identification-requests/"+reqID+"/decline", op, "", 200)
	require.Equal(t, "DECLINED", declined["request"].(map[string]any)["status"])
	call(t, h, "POST", "/api/v1/profiles/u1/reset-identification-requests/"+reqID+"/approve", op, "", 409)
	call(t, h, "POST", "/api/v1/profiles/u1/reset-identification-requests/nope/approve", op, "", 404)

	unknown := call(t, h, "POST", "/api/v1/profiles/u1/reset", op, `{"fields":["address.city"],"remarks":"x"}`, 422)
	require.Equal(t, "$.remarks", errorOf(t, unknown)["invalid"].([]any)[0].(map[string]any)["entry"])
	wrongType := call(t, h, "POST", "/api/v1/profiles/u1/reset", op, `{"fields":"address.city"}`, 422)
	require.Equal(t, "$.fields", errorOf(t, wrongType)["invalid"].([]any)[0].(map[string]any)["entry"])
	call(t, h, "POST", "/api/v1/profiles/u1/reset", op, `{"fields":`, 400)
	call(t, h, "POST", "/api/v1/profiles/u1/reset", op, ``, 400)
	call(t, h, "DELETE", "/api/v1/profiles/u1/reset", op, ``, 405)
}

// An operator of one organisation gets, for another organisation's profile and reset
// request, the status and body an id that does not exist gets.
func TestProfileOperatorsOfAnOrganisation(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	e.addProfile(t, "u1", ports.IdentificationApproved) // org-1
	user := e.token("user", ports.Claims{Subject: "u1"})
	perms := []string{identification.PermissionResetIdentificationInitiator, identification.PermissionIdentificationReviewer}
	other := e.token("operator-org-2", ports.Claims{Subject: "op-2", OrgID: "org-2", Permissions: perms})
	own := e.token("operator-org-1", ports.Claims{Subject: "op-1", OrgID: "org-1", Permissions: perms})
	reqID := call(t, h, "POST", "/api/v1/profiles/my/reset-identification", user, "", 201)["request"].(map[string]any)["id"].(string)

	// body strips the request id, which differs from call to call.
	body := func(method, path, token, in string, want int) map[string]any {
		t.Helper()
		out := call(t, h, method, path, token, in, want)
		delete(out["meta"].(map[string]any), "request_id")
		return out
	}
	const p = "/api/v1/profiles/"
	cases := []struct {
		name, method, path, missing, in string
	}{
		{"reset", "POST", p + "u1/reset", p + "nobody/reset", `{"fields":["address.city"]}`},
		{"status", "POST", p + "u1/identification-status", p + "nobody/identification-status", `{"status":"pending"}`},
		{"approve", "POST", p + "u1/reset-identification-requests/" + reqID + "/approve", p + "u1/reset-identification-requests/nope/approve", ""},
		{"decline", "POST", p + "u1/reset-identification-requests/" + reqID + "/decline", p + "u1/reset-identification-requests/nope/decline", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, body(tc.method, tc.missing, other, tc.in, 404), body(tc.method, tc.path, other, tc.in, 404))
		})
	}
	page := call(t, h, "POST", p+"view-reset-identification-requests", other, `{"filter":{"organizationId":"org-1"},"pageNumber":0,"pageSize":10}`, 200)
	require.EqualValues(t, 0, page["totalRecords"], "another organisation's requests are not listed")
	page = call(t, h, "POST", p+"view-reset-identification-requests", own, `{"pageNumber":0,"pageSize":10}`, 200)
	require.EqualValues(t, 1, page["totalRecords"], "its own are")
	reset := call(t, h, "POST", p+"u1/reset", own, `{"fields":["address.city","contact.email"]}`, 200)
	require.Equal(t, []any{"address.city", "contact.email"}, reset["mandatoryFields"])
}

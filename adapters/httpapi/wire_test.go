package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// TestProcessAnswersLeaveOutEmptyProperties: an actor without e-mail, last name, language
// or document is answered without those properties (not as "email":"", which breaks the
// schema's format: email), in the created process, its details and the list.
func TestProcessAnswersLeaveOutEmptyProperties(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	admin, _, _, _ := e.processTokens()
	created := call(t, h, "POST", otpBase, admin,
		`{"actor":{"name":"Ana","msisdn":{"country_code":"34","phone_number":"600111333"}},"channel":{"type":"SMS"}}`, 201)
	details := call(t, h, "GET", otpBase+"/"+created["id"].(string)+"/details", admin, "", 200)
	list := call(t, h, "GET", otpBase, admin, "", 200)
	listed := list["processes"].([]any)[0].(map[string]any)
	for name, p := range map[string]map[string]any{"created": created, "details": details, "listed": listed} {
		actor := p["actor"].(map[string]any)
		require.Equal(t, map[string]any{"name": "Ana", "msisdn": map[string]any{"country_code": "34", "phone_number": "600111333"}}, actor, name)
		require.NotContains(t, p, "two_factor_type", name)
		require.NotContains(t, p, "code", name)
	}
}

// TestBadQueryParametersAreNamedAsSuch: a bad limit, offset or status of the process list
// names the query parameter, with entry_type "query_parameter".
func TestBadQueryParametersAreNamedAsSuch(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	admin, _, _, _ := e.processTokens()
	for query, entry := range map[string]string{"limit=100000": "limit", "offset=-1": "offset", "status=NOPE": "status", "limit=x": "limit"} {
		body := call(t, h, "GET", otpBase+"?"+query, admin, "", 400)
		invalid := errorOf(t, body)["invalid"].([]any)
		require.Len(t, invalid, 1, query)
		in := invalid[0].(map[string]any)
		require.Equal(t, entry, in["entry"], query)
		require.Equal(t, "query_parameter", in["entry_type"], query)
	}
}

// seedResetAnswer is the response example of seed 000, the shape the answer of
// POST /api/v1/profiles/{id}/reset must have.
const seedResetAnswer = `{ "profile":{ "person":{ "namePlain":{ "first":"string", "last":"string", "middle":"string" }, "nameIntl":{ "first":"string", "last":"string", "middle":"string" }, "description":"string" }, "contact":{ "id":"string", "nickname":"string", "firstName":"string", "lastName":"string", "address":"string", "city":"string", "country":"string", "postCode":"string", "email":"string", "phoneNumber":"string", "photoPath":"string", "socialMedias":[ { "id":"string", "socialMediaType":"string", "socialMediaReference":"string" } ], "accountNumber":"string", "swiftBic":"string", "ownerId":"string", "linkedUserId":"string" }, "type":"base", "status":"none", "business":{ "companyName":"string", "legal":"individual", "type":"eshop", "vat":"string", "administrator":{ "firstName":"string", "lastName":"string", "email":"string", "phone":"string" } }, "address":{ "country":"AD", "zipCode":"string", "city":"string", "street":"string", "houseNumber":"string" }, "additional":{ }, "security":{ "twoFactorsAuthEnabled":false, "transactionNotification":{ "phone":false, "email":false }, "authorizationNotification":{ "phone":false, "email":false } } }, "status":"ok", "Message":"string" }`

// profileShape describes a decoded JSON value by its keys and kinds, not its values.
func profileShape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = profileShape(x)
		}
		return out
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{profileShape(v[0])}
	default:
		return fmt.Sprintf("%T", v)
	}
}

// TestResetAnswerHasTheSeedShape: the reset's answer is the seed's, with the mandatory
// fields the reset has just set and without the seed's optional Message; lists and objects
// of an empty profile are [] and {}, never null.
func TestResetAnswerHasTheSeedShape(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	require.NoError(t, e.profiles.Create(context.Background(), ports.ProfileRecord{
		UserID: "u1", OrganizationID: "org-1",
		Profile: ports.Profile{
			Type: "base", Status: ports.IdentificationApproved,
			Contact: ports.ProfileContact{Email: "anna@example.com",
				SocialMedias: []ports.ProfileSocialMedia{{ID: "s1", SocialMediaType: "x", SocialMediaReference: "@anna"}}},
		},
	}))
	op := e.token("operator", ports.Claims{Subject: "op-1", Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	got := call(t, h, "POST", "/api/v1/profiles/u1/reset", op, `{"fields":["contact.email","address.city"]}`, 200)

	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(seedResetAnswer), &want))
	delete(want, "Message")
	want["mandatoryFields"] = []any{"string"}
	require.Equal(t, profileShape(want), profileShape(got))
	require.Equal(t, "ok", got["status"])
	require.Equal(t, "none", got["profile"].(map[string]any)["status"])
	require.Equal(t, []any{"contact.email", "address.city"}, got["mandatoryFields"])

	require.NoError(t, e.profiles.Create(context.Background(), ports.ProfileRecord{UserID: "u2", OrganizationID: "org-1",
		Profile: ports.Profile{Type: "base", Status: ports.IdentificationApproved}}))
	rec := serve(h, "POST", "/api/v1/profiles/u2/reset", op, `{"fields":["contact.email"]}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	raw := rec.Body.String()
	require.Contains(t, raw, `"socialMedias":[]`)
	require.Contains(t, raw, `"additional":{}`)
	require.NotContains(t, raw, "null")
	require.NotContains(t, raw, "Message")
}

// TestEmptyPagesAndProfilesAnswerEmptyLists: an empty page of reset requests and a
// profile's lists are [] on the wire.
func TestEmptyPagesAndProfilesAnswerEmptyLists(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	op := e.token("operator", ports.Claims{Subject: "op-1", Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	rec := serve(h, "POST", "/api/v1/profiles/view-reset-identification-requests", op, `{"pageSize":10}`)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.JSONEq(t, `{"status":"ok","pageNumber":0,"pageSize":10,"totalRecords":0,"totalPages":0,"records":[]}`, rec.Body.String())

	require.NoError(t, e.profiles.Create(context.Background(), ports.ProfileRecord{UserID: "u3", OrganizationID: "org-1",
		Profile: ports.Profile{Type: "base", Status: ports.IdentificationNone}}))
	user := e.token("user-3", ports.Claims{Subject: "u3"})
	rec = serve(h, "GET", "/api/v1/profiles/my", user, "")
	require.Equal(t, 200, rec.Code, rec.Body.String())
	for _, list := range []string{"mandatoryFields", "pendingFields", "documents"} {
		require.True(t, strings.Contains(rec.Body.String(), fmt.Sprintf(`"%s":[]`, list)), list)
	}
}

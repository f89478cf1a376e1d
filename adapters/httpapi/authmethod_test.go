package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

const pisBase = "/api/pis/authentication_methods/"

func deactivatePath(id string) string { return pisBase + id + "/actions/deactivate" }

// addPISData stores the persons, methods and relationships of the deactivation tests, and a
// token "tok-<person>" for each person (with the scope and their person_id).
func (e *fullEnv) addPISData(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	born := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	persons := []ports.PersonRecord{
		{ID: "adult", BirthDate: born(1980, 1, 1)},
		{ID: "solo", BirthDate: born(1981, 2, 2)},
		{ID: "kid", BirthDate: born(2015, 5, 5)},
		{ID: "teen", BirthDate: born(2010, 3, 1), Documents: []ports.PersonDocument{{Type: "BIRTH_CERTIFICATE", Number: "I-KB-000001"}}},
		{ID: "guarded", BirthDate: born(1990, 6, 6)},
		{ID: "mother", BirthDate: born(1984, 9, 12)},
		{ID: "stranger", BirthDate: born(1975, 4, 4)},
		{ID: "unverified", BirthDate: born(1970, 7, 7), VerificationStatus: authmethod.StatusNotVerified},
		{ID: "inactive", BirthDate: born(1960, 1, 1), IsActive: false},
	}
	for _, p := range persons {
		p.Status = authmethod.PersonStatusActive
		p.IsActive = p.ID != "inactive"
		if p.VerificationStatus == "" {
			p.VerificationStatus = authmethod.StatusVerified
		}
		require.NoError(t, e.persons.CreatePerson(ctx, p))
		e.token("tok-"+p.ID, ports.Claims{Subject: p.ID, PersonID: p.ID, Scopes: []string{authmethod.Scope, authmethod.ReadScope}})
	}
	now := e.clock.Now()
	for _, m := range []ports.AuthMethodRecord{
		{ID: "am-adult-otp", PersonID: "adult", Type: authmethod.TypeOTP, Phone: "+380931234585", StartedAt: now.AddDate(-2, 0, 0), IsPrimary: true},
		{ID: "am-adult-third", PersonID: "adult", Type: authmethod.TypeThirdPerson, Alias: "brother", Value: "stranger", StartedAt: now.AddDate(-1, 0, 0)},
		{ID: "am-solo", PersonID: "solo", Type: authmethod.TypeThirdPerson, Value: "adult", StartedAt: now.AddDate(-1, 0, 0), IsPrimary: true},
		{ID: "am-kid", PersonID: "kid", Type: authmethod.TypeThirdPerson, Value: "mother", StartedAt: now.AddDate(-1, 0, 0), IsPrimary: true},
		{ID: "am-kid-otp", PersonID: "kid", Type: authmethod.TypeOTP, Phone: "+380930000001", StartedAt: now.AddDate(-2, 0, 0)},
		{ID: "am-teen-otp", PersonID: "teen", Type: authmethod.TypeOTP, Phone: "+380930000002", StartedAt: now.AddDate(-2, 0, 0)},
		{ID: "am-teen", PersonID: "teen", Type: authmethod.TypeThirdPerson, Alias: "mum", Value: "mother", StartedAt: now.AddDate(0, -2, 0), IsPrimary: true},
		{ID: "am-guarded", PersonID: "guarded", Type: authmethod.TypeThirdPerson, Value: "mother", StartedAt: now.AddDate(-1, 0, 0), IsPrimary: true},
		{ID: "am-inactive", PersonID: "inactive", Type: authmethod.TypeThirdPerson, Value: "adult", StartedAt: now.AddDate(-1, 0, 0), IsPrimary: true},
		{ID: "am-guarded-otp", PersonID: "guarded", Type: authmethod.TypeOTP, Phone: "+380930000003", StartedAt: now.AddDate(-1, 0, 0)},
	} {
		m.IsActive = true
		require.NoError(t, e.methods.AddAuthMethod(ctx, m))
	}
	for _, r := range []ports.ConfidantRelationship{
		{ID: "rel-teen-mother", PersonID: "teen", ConfidantPersonID: "mother", VerificationStatus: authmethod.StatusVerified, IsActive: true},
		{ID: "rel-teen-unverified", PersonID: "teen", ConfidantPersonID: "unverified", VerificationStatus: authmethod.StatusVerified, IsActive: true},
		{ID: "rel-teen-stranger", PersonID: "teen", ConfidantPersonID: "stranger", VerificationStatus: authmethod.StatusInReview, IsActive: true},
		{ID: "rel-guarded", PersonID: "guarded", ConfidantPersonID: "mother", VerificationStatus: authmethod.StatusVerified, IsActive: true},
	} {
		require.NoError(t, e.confidants.AddConfidantRelationship(ctx, r))
	}
	e.token("tok-noscope", ports.Claims{Subject: "adult", PersonID: "adult"})
	e.token("tok-noperson", ports.Claims{Subject: "adult", Scopes: []string{authmethod.Scope}})
	e.tokens.Add("tok-expired", ports.Claims{Subject: "adult", PersonID: "adult", Scopes: []string{authmethod.Scope}, ExpiresAt: t0.Add(-time.Second)})
}

// TestDeactivateEveryDenial answers every 401/403/404/409 of RULES.md §B, with its exact
// message in the error body, through PATCH .../actions/deactivate, and the same status and
// message in the dry run's "error".
func TestDeactivateEveryDenial(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	e.addPISData(t)
	cases := []struct {
		name, token, method, body string
		code                      int
		typ, msg                  string
		rule                      authmethod.Rule
	}{
		{"no token", "", "am-adult-third", "", 401, "access_denied", "Invalid access token", ""},
		{"unknown token", "nope", "am-adult-third", "", 401, "access_denied", "Invalid access token", ""},
		{"expired token", "tok-expired", "am-adult-third", "", 401, "access_denied", "Invalid access token", ""},
		{"token without person_id", "tok-noperson", "am-adult-third", "", 401, "access_denied", "Invalid access token", ""},
		{"missing scope", "tok-noscope", "am-adult-third", "", 403, "forbidden", msgNoScope + authmethod.Scope, ""},
		{"unknown person", "tok-adult", "am-adult-third", `{"person_id":"ghost"}`, 404, "not_found", authmethod.MsgPersonNotFound, authmethod.RulePersonActive},
		{"inactive person", "tok-inactive", "am-inactive", "", 404, "not_found", authmethod.MsgPersonNotFound, authmethod.RulePersonActive},
		{"under 14", "tok-kid", "am-kid", "", 409, "request_conflict", authmethod.MsgConfidantRequired, authmethod.RuleSelfMinimumAge},
		{"16 without a legal-capacity document", "tok-teen", "am-teen", "", 409, "request_conflict", authmethod.MsgConfidantRequired, authmethod.RuleSelfLegalCapacity},
		{"adult with a verified confidant", "tok-guarded", "am-guarded", "", 409, "request_conflict", authmethod.MsgConfidantRequired, authmethod.RuleSelfNoConfidant},
		{"no verified relationship", "tok-stranger", "am-teen", `{"person_id":"teen"}`, 409, "request_conflict", authmethod.MsgCantConfirmRelationship, authmethod.RuleRelationship},
		{"no relationship at all", "tok-adult", "am-teen", `{"person_id":"teen"}`, 409, "request_conflict", authmethod.MsgCantConfirmRelationship, authmethod.RuleRelationship},
		{"the owner by default: no relationship", "tok-adult", "am-teen", "", 409, "request_conflict", authmethod.MsgCantConfirmRelationship, authmethod.RuleRelationship},
		{"confidant not verified", "tok-unverified", "am-teen", `{"person_id":"teen"}`, 409, "request_conflict", authmethod.MsgConfidantNotVerified, authmethod.RuleConfidantVerified},
		{"method of another person", "tok-adult", "am-teen", `{"person_id":"adult"}`, 404, "not_found", authmethod.MsgMethodNotOwned, authmethod.RuleMethodOwned},
		{"unknown method", "tok-adult", "am-none", "", 404, "not_found", authmethod.MsgMethodNotOwned, authmethod.RuleMethodOwned},
		{"not THIRD_PERSON", "tok-adult", "am-adult-otp", "", 403, "forbidden", authmethod.MsgOnlyThirdPerson, authmethod.RuleMethodType},
		{"last method", "tok-solo", "am-solo", "", 403, "forbidden", authmethod.MsgLastMethod, authmethod.RuleNotLastMethod},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := call(t, h, "PATCH", deactivatePath(tc.method), tc.token, tc.body, tc.code)
			requireError(t, body, tc.code, tc.typ, tc.msg)

			// The dry run: token and scope failures answer as the deactivation does;
			// any other denial is explained, with the status and message it gives.
			if tc.rule == "" {
				requireError(t, call(t, h, "POST", deactivatePath(tc.method)+"/explain", tc.token, tc.body, tc.code), tc.code, tc.typ, tc.msg)
				return
			}
			ex := data(t, call(t, h, "POST", deactivatePath(tc.method)+"/explain", tc.token, tc.body, 200), 200, deactivatePath(tc.method)+"/explain")
			require.Equal(t, false, ex["allowed"])
			want := map[string]any{"code": float64(tc.code), "type": tc.typ, "message": tc.msg}
			require.Equal(t, want, ex["error"])
			var failed []any
			for _, c := range ex["checks"].([]any) {
				if c := c.(map[string]any); c["outcome"] == string(authmethod.Failed) {
					failed = append(failed, c["rule"])
					if c["rule"] == string(tc.rule) {
						require.Equal(t, want, c["error"])
						require.NotEmpty(t, c["reason"])
					}
				}
			}
			require.Contains(t, failed, string(tc.rule))
		})
	}
	// Nothing changed.
	for _, person := range []string{"adult", "teen", "kid", "solo", "guarded"} {
		methods, err := e.methods.AuthMethods(context.Background(), person)
		require.NoError(t, err)
		for _, m := range methods {
			require.True(t, m.IsActive, m.ID)
		}
	}
}

func TestDeactivateJourney(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	e.addPISData(t)

	// The dry run says yes, and changes nothing.
	ex := data(t, call(t, h, "POST", deactivatePath("am-teen")+"/explain", "tok-mother", `{"person_id":"teen"}`, 200), 200, deactivatePath("am-teen")+"/explain")
	require.Equal(t, true, ex["allowed"])
	require.Nil(t, ex["error"])
	require.Equal(t, "mother", ex["applicant_id"])
	require.Equal(t, "teen", ex["person_id"])
	require.Equal(t, "am-teen", ex["authentication_method_id"])
	require.NotEmpty(t, ex["checks"])

	// The teen's verified mother deactivates the primary THIRD_PERSON method: 201 with the
	// method, and the primary moves to the OTP method.
	method := data(t, call(t, h, "PATCH", deactivatePath("am-teen"), "tok-mother", `{"person_id":"teen"}`, 201), 201, deactivatePath("am-teen"))
	require.Equal(t, "am-teen", method["id"])
	require.Equal(t, "teen", method["person_id"])
	require.Equal(t, "THIRD_PERSON", method["type"])
	require.Equal(t, "mum", method["alias"])
	require.Equal(t, false, method["is_active"])
	require.Equal(t, e.clock.Now().Format(time.RFC3339), method["ended_at"])
	methods, err := e.methods.AuthMethods(context.Background(), "teen")
	require.NoError(t, err)
	require.True(t, methods[0].IsPrimary, "the OTP method became primary")

	again := call(t, h, "PATCH", deactivatePath("am-teen"), "tok-mother", `{"person_id":"teen"}`, 409)
	requireError(t, again, 409, "request_conflict", authmethod.MsgAlreadyDeactivated)

	// An adult deactivates their own method, with an empty JSON object as the body.
	own := data(t, call(t, h, "PATCH", deactivatePath("am-adult-third"), "tok-adult", `{}`, 201), 201, deactivatePath("am-adult-third"))
	require.Equal(t, "stranger", own["value"])
	require.NotContains(t, own, "phone_number")
	requireError(t, call(t, h, "PATCH", deactivatePath("am-adult-otp"), "tok-adult", ``, 403), 403, "forbidden", authmethod.MsgOnlyThirdPerson)
}

func TestDeactivateStrictInput(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	e.addPISData(t)
	path := deactivatePath("am-adult-third")
	require.Equal(t, []string{"$.person_id"}, entries(t, call(t, h, "PATCH", path, "tok-adult", `{"person_id":7}`, 422)))
	require.Equal(t, []string{"$.reason"}, entries(t, call(t, h, "PATCH", path, "tok-adult", `{"reason":"x"}`, 422)))
	requireError(t, call(t, h, "PATCH", path, "tok-adult", `{"person_id":`, 400), 400, "bad_request", "")
	req := newRequest("PATCH", path, "tok-adult", `{"person_id":"adult"}`)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	requireError(t, decode(t, serveReq(h, req), 415), 415, "unsupported_media_type", "")
	requireError(t, call(t, h, "PATCH", path, "tok-adult", `{"person_id":"`+string(make([]byte, 2<<20))+`"}`, 413), 413, "request_too_large", "")
	for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
		rec := serve(h, method, path, "tok-adult", "")
		requireError(t, decode(t, rec, 405), 405, "method_not_allowed", "")
		require.Equal(t, "PATCH", rec.Header().Get("Allow"))
	}
	require.Equal(t, "POST", serve(h, "GET", path+"/explain", "tok-adult", "").Header().Get("Allow"))
	// Nothing changed.
	methods, err := e.methods.AuthMethods(context.Background(), "adult")
	require.NoError(t, err)
	require.True(t, methods[1].IsActive)
}

// TestListAuthenticationMethods reads a person's methods, as the person and as their
// confidant, and sees the primary move after a deactivation.
func TestListAuthenticationMethods(t *testing.T) {
	e := newFullHandler(t)
	h := e.handler
	e.addPISData(t)
	const list = "/api/pis/authentication_methods"
	methods := func(body map[string]any) []map[string]any {
		t.Helper()
		m := body["meta"].(map[string]any)
		require.Equal(t, "list", m["type"])
		require.Equal(t, list, m["url"])
		var out []map[string]any
		for _, v := range body["data"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out
	}
	own := methods(call(t, h, "GET", list, "tok-adult", "", 200))
	require.Len(t, own, 2)
	require.Equal(t, "am-adult-otp", own[0]["id"])
	require.Equal(t, "+38093*****85", own[0]["phone_number"], "phones are masked")
	require.Equal(t, true, own[0]["is_primary"])

	before := methods(call(t, h, "GET", list+"?person_id=teen", "tok-mother", "", 200))
	require.Equal(t, []any{"am-teen-otp", false, "am-teen", true}, []any{before[0]["id"], before[0]["is_primary"], before[1]["id"], before[1]["is_primary"]})
	call(t, h, "PATCH", deactivatePath("am-teen"), "tok-mother", `{"person_id":"teen"}`, 201)
	after := methods(call(t, h, "GET", list+"?person_id=teen", "tok-mother", "", 200))
	require.Equal(t, true, after[0]["is_primary"], "the OTP method became primary")
	require.Equal(t, false, after[1]["is_active"])

	requireError(t, call(t, h, "GET", list, "", "", 401), 401, "access_denied", "Invalid access token")
	requireError(t, call(t, h, "GET", list, "tok-noscope", "", 403), 403, "forbidden",
		"Your scope does not allow to access this resource. Missing allowances: "+authmethod.ReadScope)
	requireError(t, call(t, h, "GET", list+"?person_id=teen", "tok-adult", "", 409), 409, "request_conflict", authmethod.MsgCantConfirmRelationship)
	requireError(t, call(t, h, "GET", list+"?person_id=nobody", "tok-adult", "", 404), 404, "not_found", authmethod.MsgPersonNotFound)
}

package httpapi_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// Hostile values of TestHostileValuesStayOutOfLogs. Each holds a marker that must never
// reach a log.
var (
	// hostileLong is a 16,208-byte id of plain characters: only its length is wrong.
	hostileLong = strings.Repeat("0123456789abcdef", 1013)
	// hostileIDs are ids a caller may send in a path, a query or a body.
	hostileIDs = []string{
		hostileLong,
		"hostile-ctl-7f3a\x00\x1b[2J\r\n{\"level\":\"ERROR\",\"msg\":\"forged\"}",
		"hostile-uni-ідентифікатор",
		"+380991112233",              // a phone number typed as an id
		"hostile.person@example.org", // an e-mail address typed as an id
		"hostile-tab-02\tx",
	}
	// hostileMarkers are the substrings of the hostile values that no log line may hold.
	hostileMarkers = []string{
		hostileLong[:32], "hostile-ctl-7f3a", "forged", "hostile-uni", "ідентифікатор",
		"380991112233", "hostile.person", "hostile-tab-02",
		"hostile-desc-9e21", hostileDoc, hostileCode, "600999888", "anna.hostile", "HX-Lopez",
		hostileTokPlatform, hostileTokOrg, hostileTokUser, "tok-hostile-long",
	}
)

const (
	hostileDoc         = "HX7734521"
	hostileCode        = "482913"
	hostileTokPlatform = "tok-hostile-platform-5b7e9d" // the PIS person teen, every scope and permission, no organisation
	hostileTokOrg      = "tok-hostile-org-41ac"        // organisation org-h, every scope and permission
	hostileTokUser     = "tok-hostile-user-3c1d"       // user-7, who has a profile
	// hostileMaxLine bounds every log line, in bytes: a request line is about 200.
	hostileMaxLine = 1024
)

// hostileBody returns a body for route that carries h and the other hostile values in the
// fields the route reads (a code, a document number, a phone, an e-mail, free text), or ""
// for a route without a body of its own.
func hostileBody(route, h string) string {
	q := func(s string) string {
		raw, _ := json.Marshal(s)
		return string(raw)
	}
	switch {
	case strings.HasSuffix(route, "PATCH /api/v1/profiles/my"):
		return `{"changes":[{"path":"contact.email","value":"anna.hostile@example.com"},{"path":"address.city","value":` + q(h) + `}]}`
	case strings.HasSuffix(route, "/my/reset-identification"):
		return `{"description":` + q("hostile-desc-9e21 "+h) + `}`
	case strings.HasSuffix(route, "/view-reset-identification-requests"):
		return `{"filter":{"status":"PENDING","organizationId":` + q(h) + `},"sort":{"createdAt":"asc"},"pageNumber":0,"pageSize":10}`
	case strings.HasSuffix(route, "/{id}/reset"):
		return `{"fields":["address.city",` + q(h) + `]}`
	case strings.HasSuffix(route, "/identification-status"):
		return `{"status":` + q(h) + `}`
	case route == "POST /v1/orgs/{org_id}/identifications/otp":
		return `{"actor":{"name":` + q(h) + `,"last_name":"HX-Lopez","email":"anna.hostile@example.com",
			"msisdn":{"country_code":"34","phone_number":"600999888"},
			"identity_document":{"document_type":"ID_CARD","document_number":"` + hostileDoc + `","country":"ES"},"language":"es"},
			"expires_in":"P7D","two_factor_type":"DOCUMENT_NUMBER","channel":{"type":"SMS","external":false}}`
	case strings.HasSuffix(route, "/cancel"):
		return `{"reason":` + q(h) + `}`
	case strings.HasSuffix(route, "/validate"):
		return `{"code":"` + hostileCode + `","two_factor":"` + hostileDoc + `"}`
	case route == "POST /api/person_requests":
		return strings.Replace(personRequestBody("+380991112233"), `"Petro"`, q(h), 1)
	case strings.HasSuffix(route, "/resend_auth_method"), strings.HasSuffix(route, "/resend_otp"):
		return `{"alias":` + q(h) + `,"type":"OTP"}`
	case strings.HasSuffix(route, "/actions/approve") && strings.HasPrefix(route, "PATCH /api/person_requests"):
		return `{"verification_code":"` + hostileCode + `"}`
	case strings.Contains(route, "/api/pis/authentication_methods/{id}/actions/deactivate"):
		return `{"person_id":` + q(h) + `}`
	}
	return ""
}

// hostilePaths returns the paths of a route pattern with h in its parameters: in none
// (plain ids that exist or could, so the hostile values of the body and the query get as
// far as they can), in each one alone, and in all of them at once.
func hostilePaths(pattern, h string, defaults map[string]string) []string {
	params := regexp.MustCompile(`\{([a-zA-Z_]+)\}`).FindAllStringSubmatch(pattern, -1)
	fill := func(hostile string) string {
		return regexp.MustCompile(`\{([a-zA-Z_]+)\}`).ReplaceAllStringFunc(pattern, func(m string) string {
			name := m[1 : len(m)-1]
			if hostile == "*" || hostile == name {
				return url.PathEscape(h)
			}
			return defaults[name]
		})
	}
	if len(params) == 0 {
		return []string{pattern}
	}
	out := []string{fill("")}
	for _, p := range params {
		out = append(out, fill(p[1]))
	}
	if len(params) > 1 {
		out = append(out, fill("*"))
	}
	return out
}

// TestHostileValuesStayOutOfLogs sends hostile values — 16 kB ids, control characters,
// phone numbers and e-mail addresses typed as ids, codes, document numbers, tokens, a
// 16 kB method and request id — through every route the Handler serves, with tokens that
// get as far as each flow goes, and checks that the logs hold none of them raw and that
// no log line is longer than hostileMaxLine.
func TestHostileValuesStayOutOfLogs(t *testing.T) {
	logs := &memory.LogBuffer{}
	e := newLoggedHandler(t, digitFreeLogger(logs)) // a timestamp could hold hostileCode by chance
	h := e.handler
	e.addPISData(t)
	e.addProfile(t, "user-7", ports.IdentificationApproved)
	every := []string{personrequest.ScopeWrite, personrequest.ScopeRead, authmethod.Scope,
		otpprocess.DefaultAdminScope, otpprocess.DefaultActorScope}
	perms := []string{identification.PermissionResetIdentificationInitiator, identification.PermissionIdentificationReviewer,
		otpprocess.DefaultForceDeletePermission}
	e.token(hostileTokPlatform, ports.Claims{Subject: "teen", PersonID: "teen", Scopes: every, Permissions: perms})
	e.token(hostileTokOrg, ports.Claims{Subject: "op-h", OrgID: "org-h", Scopes: every, Permissions: perms})
	e.token(hostileTokUser, ports.Claims{Subject: "user-7", Scopes: every})
	longToken := "tok-hostile-long-" + hostileLong

	// Records behind the routes, so that plain ids get past "not found": a person request,
	// an identification process of org-h, a reset request of user-7.
	prID := data(t, call(t, h, "POST", prBase, e.registrar(), personRequestBody(phonePerson), 201), 201, prBase)["id"].(string)
	procID := call(t, h, "POST", "/v1/orgs/org-h/identifications/otp", hostileTokOrg, processActor("600111222"), 201)["id"].(string)
	resetID := call(t, h, "POST", "/api/v1/profiles/my/reset-identification", hostileTokUser, "", 201)["request"].(map[string]any)["id"].(string)
	defaultsFor := func(pattern string) map[string]string {
		d := map[string]string{"org_id": "org-h", "userId": "user-7", "id": "user-7", "reqId": resetID}
		switch {
		case strings.HasPrefix(pattern, prBase):
			d["id"] = prID
		case strings.HasPrefix(pattern, "/v1/orgs/"):
			d["id"] = procID
		case strings.HasPrefix(pattern, pisBase):
			d["id"] = "am-teen"
		}
		return d
	}

	served := 3 // the three calls above
	send := func(method, path, token, body string) {
		t.Helper()
		req := newRequest(method, path, token, body)
		req.Header.Set("X-Request-ID", hostileLong)
		rec := serveReq(h, req)
		require.NotEqual(t, 500, rec.Code, "%s %.80s: %s", method, path, rec.Body.String())
		served++
	}
	routes := h.Routes()
	require.NotEmpty(t, routes)
	for _, route := range routes {
		method, pattern, _ := strings.Cut(route, " ")
		for _, hv := range hostileIDs {
			query := "?" + url.Values{"person_id": {hv}, "status": {hv}, "page": {hv}, "force": {"true"}}.Encode()
			for _, path := range hostilePaths(pattern, hv, defaultsFor(pattern)) {
				for _, tok := range []string{hostileTokPlatform, hostileTokOrg, hostileTokUser} {
					send(method, path, tok, hostileBody(route, hv))
					send(method, path+query, tok, "")
				}
				send(method, path, longToken, hostileBody(route, hv))
			}
		}
		// A method of 16 kB on the route's path.
		send(strings.Repeat("X", len(hostileLong)), hostilePaths(pattern, "", defaultsFor(pattern))[0], hostileTokPlatform, "")
	}

	out := logs.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Equal(t, served, strings.Count(out, `"msg":"request"`), "one request line per request")
	for _, line := range lines {
		require.LessOrEqual(t, len(line), hostileMaxLine, "a log line of %d bytes: %.300s", len(line), line)
	}
	for _, m := range hostileMarkers {
		require.NotContains(t, out, m, "a hostile value in the logs")
	}
	// The flows that log request ids did log them, as markers.
	require.Contains(t, out, `"method_id":"[malformed id: 16208 bytes]"`, "the deactivation denial names the method by its length")
	require.Contains(t, out, `"method":"[malformed id: 16208 bytes]"`, "the request line names an odd method by its length")
	require.Contains(t, out, "authentication method deactivation denied")
}

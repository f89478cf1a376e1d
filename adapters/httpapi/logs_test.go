package httpapi_test

import (
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// digitFreeLogger is a JSON logger of every level to w without timestamps and durations:
// their digits could look like a code by chance.
func digitFreeLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Value.Kind() == slog.KindDuration {
				return slog.String(a.Key, "-")
			}
			return a
		},
	}))
}

// TestLogsHoldNoSecrets runs every flow through the Handler with the Handler and every
// service logging at debug level, and checks that the logs name no token, code, full phone
// number or document number — while they do have the request lines.
func TestLogsHoldNoSecrets(t *testing.T) {
	logs := &memory.LogBuffer{}
	e := newLoggedHandler(t, digitFreeLogger(logs))
	h := e.handler
	const tok = "tok-secret-registrar-8a1f"
	e.token(tok, ports.Claims{Subject: "registrar", Scopes: []string{"person_request:write", "person_request:read"}})
	var codes []string

	// Person request: create, resend to the mother, a wrong code, approve.
	id := data(t, call(t, h, "POST", prBase, tok, personRequestBody(phonePerson), 201), 201, prBase)["id"].(string)
	codes = append(codes, e.lastCode(t, phonePerson))
	e.clock.Advance(time.Minute)
	call(t, h, "POST", prBase+"/"+id+"/actions/resend_auth_method", tok, `{"alias":"mother"}`, 200)
	codes = append(codes, e.lastCode(t, phoneThird))
	call(t, h, "PATCH", prBase+"/"+id+"/actions/approve", tok, `{"verification_code":"`+codes[0]+`"}`, 422)
	call(t, h, "PATCH", prBase+"/"+id+"/actions/approve", tok, `{"verification_code":"`+codes[1]+`"}`, 200)
	call(t, h, "POST", prBase, "tok-unknown-secret", personRequestBody(phonePerson), 401)

	// Authentication methods: a denial and a deactivation.
	e.addPISData(t)
	call(t, h, "PATCH", deactivatePath("am-teen"), "tok-teen", "", 409)
	call(t, h, "PATCH", deactivatePath("am-teen"), "tok-mother", `{"person_id":"teen"}`, 201)

	// OTP identification: create, a wrong second factor, validate.
	admin, actor, _, _ := e.processTokens()
	pid := call(t, h, "POST", otpBase, admin, processActor("600111222"), 201)["id"].(string)
	codes = append(codes, e.lastCode(t, "+34600111222"))
	call(t, h, "PUT", otpBase+"/"+pid+"/validate", actor, `{"code":"`+codes[2]+`","two_factor":"nope"}`, 422)
	call(t, h, "PUT", otpBase+"/"+pid+"/validate", actor, `{"code":"`+codes[2]+`","two_factor":"X1234567L"}`, 204)

	// Profiles: ask for a reset, reset.
	e.addProfile(t, "user-7", ports.IdentificationApproved)
	user := e.token("tok-secret-user-7", ports.Claims{Subject: "user-7"})
	op := e.token("tok-secret-operator", ports.Claims{Subject: "op-1", Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	call(t, h, "POST", "/api/v1/profiles/my/reset-identification", user, `{"description":"moved"}`, 201)
	call(t, h, "POST", "/api/v1/profiles/user-7/reset", op, `{"fields":["address.city"]}`, 200)

	out := logs.String()
	require.Contains(t, out, `"route":"POST /api/person_requests/{id}/actions/resend_auth_method"`)
	require.Contains(t, out, `"route":"PATCH /api/pis/authentication_methods/{id}/actions/deactivate"`)
	require.Contains(t, out, `"status":422`)
	secrets := []string{
		tok, "tok-unknown-secret", "tok-teen", "tok-mother", admin, actor, user, op,
		phonePerson, phoneThird, "+34600111222", "600111222", "+380931234585", "380931234585", "0931234585",
		"I-AB 123456", "CD654321", "X1234567L", "I-KB-000001", "anna@example.com", "ana@example.com",
	}
	for _, s := range secrets {
		require.NotContains(t, out, s)
	}
	for _, c := range codes {
		require.NotRegexp(t, regexp.MustCompile(`\b`+c+`\b`), out, "a code in the logs")
	}
	require.Equal(t, 12, strings.Count(out, `"msg":"request"`), "one line per request")
}

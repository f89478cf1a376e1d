package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"
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

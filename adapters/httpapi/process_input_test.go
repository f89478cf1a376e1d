package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProcessCreateRefusesShortLivesAndImpossiblePhones: a process lives at least a minute,
// and its phone number must be possible in E.164 form; otherwise 400 naming the field.
func TestProcessCreateRefusesShortLivesAndImpossiblePhones(t *testing.T) {
	e := newFullHandler(t)
	admin, _, _, _ := e.processTokens()
	cases := []struct {
		name, body, entry string
	}{
		{name: "half a second", entry: "$.expires_in",
			body: `{"actor":{"name":"Ana","email":"ana@example.com"},"expires_in":"PT0.5S","channel":{"type":"EMAIL","external":true}}`},
		{name: "59 seconds", entry: "$.expires_in",
			body: `{"actor":{"name":"Ana","email":"ana@example.com"},"expires_in":"PT59S","channel":{"type":"EMAIL","external":true}}`},
		{name: "country code 1 and 2345", entry: "$.actor.msisdn.phone_number",
			body: `{"actor":{"name":"Ana","msisdn":{"country_code":"1","phone_number":"2345"}},"channel":{"type":"SMS","external":true}}`},
		{name: "16 digits", entry: "$.actor.msisdn.phone_number",
			body: `{"actor":{"name":"Ana","msisdn":{"country_code":"380","phone_number":"9312345851234"}},"channel":{"type":"SMS","external":true}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := call(t, e.handler, "POST", otpBase, admin, tc.body, 400)
			invalid := errorOf(t, bad)["invalid"].([]any)
			require.Len(t, invalid, 1)
			require.Equal(t, tc.entry, invalid[0].(map[string]any)["entry"])
		})
	}
	call(t, e.handler, "POST", otpBase, admin,
		`{"actor":{"name":"Ana","email":"ana@example.com"},"expires_in":"PT1M","channel":{"type":"EMAIL","external":true}}`, 201)
}

package claimmap_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/internal/claimmap"
)

func TestApply(t *testing.T) {
	var claims map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{
		"sub": "u1", "scope": "a b a", "scp": ["c", "b"],
		"https://example.com/org": "org-1",
		"realm_access": {"roles": ["R1"]}, "a.b": {"c": "dotted key"},
		"num": 12345678901, "bad": {"x": 1}, "mixed": ["ok", 1]
	}`), &claims))
	tests := []struct {
		name string
		m    claimmap.Mapping
		want []string // subject, person, org, scopes..., "|", permissions...
		err  bool
	}{
		{name: "defaults", m: claimmap.Mapping{}.WithDefaults(), want: []string{"u1", "", "", "a", "b", "c", "|"}},
		{name: "dotted key and nested path", m: claimmap.Mapping{OrgID: "https://example.com/org", PersonID: "a.b.c", Permissions: []string{"realm_access.roles"}},
			want: []string{"", "dotted key", "org-1", "|", "R1"}},
		{name: "a number as a person id", m: claimmap.Mapping{PersonID: "num"}, want: []string{"", "12345678901", "", "|"}},
		{name: "an object as a subject", m: claimmap.Mapping{Subject: "bad"}, err: true},
		{name: "an array with a number", m: claimmap.Mapping{Scopes: []string{"mixed"}}, err: true},
		{name: "missing claims", m: claimmap.Mapping{Subject: "nope", Scopes: []string{"x.y"}}, want: []string{"", "", "", "|"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.m.Apply(claims)
			if tc.err {
				require.ErrorIs(t, err, claimmap.ErrClaimType)
				return
			}
			require.NoError(t, err)
			got := append([]string{c.Subject, c.PersonID, c.OrgID}, c.Scopes...)
			got = append(append(got, "|"), c.Permissions...)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestValidate(t *testing.T) {
	require.NoError(t, claimmap.Default().Validate(""))
	err := claimmap.Mapping{Subject: ".sub", Scopes: []string{""}, Permissions: []string{"a..b", "ok"}}.Validate("Claims.")
	require.ErrorContains(t, err, "Claims.Subject")
	require.ErrorContains(t, err, "Claims.Scopes[0]")
	require.ErrorContains(t, err, "Claims.Permissions[0]")
	require.NotContains(t, err.Error(), "Permissions[1]")
}

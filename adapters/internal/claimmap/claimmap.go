// Package claimmap turns the claims of an access token — a JWT's payload or an RFC 7662
// introspection answer, both JSON objects — into ports.Claims, by claim names a host
// configures. adapters/jwt and adapters/introspection share it (each re-exports Mapping as
// its ClaimMapping), so one configuration reads both kinds of token alike.
package claimmap

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// Mapping names the claims that fill ports.Claims. Every name is a path into the claims
// object: "sub", or a nested one with dots, "realm_access.roles" (Keycloak). A name is
// looked up whole first, so a claim whose own name holds dots
// ("https://example.com/org") is found too. An empty name fills nothing.
type Mapping struct {
	// Subject names the claim of Claims.Subject. Default "sub".
	Subject string
	// PersonID names the claim of Claims.PersonID, e.g. "person_id". Default: none.
	PersonID string
	// OrgID names the claim of Claims.OrgID, e.g. "org_id" or "organization.id".
	// Default: none.
	OrgID string
	// Scopes name the claims whose values, together, are Claims.Scopes. A claim may be a
	// space-separated string (RFC 8693 "scope") or an array of strings ("scp").
	// Default: "scope" and "scp".
	Scopes []string
	// Permissions name the claims whose values, together, are Claims.Permissions, in the
	// same two forms, e.g. "realm_access.roles" or "resource_access.my-client.roles"
	// (Keycloak roles), "permissions". Default: none.
	Permissions []string
}

// Default returns the mapping of a token that follows the standards only: the subject
// from "sub", the scopes from "scope" or "scp".
func Default() Mapping {
	return Mapping{Subject: "sub", Scopes: []string{"scope", "scp"}}
}

// WithDefaults returns m with its empty Subject and Scopes set from Default. Fields that
// have no default stay as they are.
func (m Mapping) WithDefaults() Mapping {
	d := Default()
	if m.Subject == "" {
		m.Subject = d.Subject
	}
	if len(m.Scopes) == 0 {
		m.Scopes = d.Scopes
	}
	m.Scopes = append([]string(nil), m.Scopes...)
	m.Permissions = append([]string(nil), m.Permissions...)
	return m
}

// Validate reports names that can never match: empty entries of Scopes and Permissions,
// and names that start or end with a dot or hold "..". The entries are named field by field
// in a KindInvalidInput error; prefix is put before each field name (e.g. "Claims.").
func (m Mapping) Validate(prefix string) error {
	var v verifykit.Validation
	check := func(field, name string) {
		if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			v.AddEntry(verifykit.InvalidEntry{Entry: prefix + field, EntryType: verifykit.EntryConfig, Rule: "format",
				Description: "is not a claim name or a dotted path of claim names"})
		}
	}
	for _, f := range []struct{ field, name string }{{"Subject", m.Subject}, {"PersonID", m.PersonID}, {"OrgID", m.OrgID}} {
		if f.name != "" {
			check(f.field, f.name)
		}
	}
	for i, name := range m.Scopes {
		check(fmt.Sprintf("Scopes[%d]", i), name)
	}
	for i, name := range m.Permissions {
		check(fmt.Sprintf("Permissions[%d]", i), name)
	}
	return v.Err()
}

// ErrClaimType is wrapped by Apply's error when a mapped claim has a type it cannot read
// (a number where scopes are expected, an object as a subject).
var ErrClaimType = errors.New("claim of an unexpected type")

// Apply reads claims by m. A missing claim leaves its field empty; a claim of the wrong type
// is an error wrapping ErrClaimType, which names the claim but never its value. Strings
// and JSON numbers (json.Number, float64) are read as strings for the subject, person and
// organisation. Scopes and permissions keep their first order, without repeats. ExpiresAt
// is not set: the caller knows which claim, and which leeway, decides it.
func (m Mapping) Apply(claims map[string]any) (ports.Claims, error) {
	var out ports.Claims
	var err error
	if out.Subject, err = m.text(claims, m.Subject); err != nil {
		return ports.Claims{}, err
	}
	if out.PersonID, err = m.text(claims, m.PersonID); err != nil {
		return ports.Claims{}, err
	}
	if out.OrgID, err = m.text(claims, m.OrgID); err != nil {
		return ports.Claims{}, err
	}
	if out.Scopes, err = list(claims, m.Scopes); err != nil {
		return ports.Claims{}, err
	}
	if out.Permissions, err = list(claims, m.Permissions); err != nil {
		return ports.Claims{}, err
	}
	return out, nil
}

// text returns the claim at path as a string ("" when path is empty or the claim absent).
func (Mapping) text(claims map[string]any, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	v, ok := Lookup(claims, path)
	if !ok || v == nil {
		return "", nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	default:
		return "", fmt.Errorf("%w: %q", ErrClaimType, path)
	}
}

// list returns the strings of every claim of paths, in order, without repeats.
func list(claims map[string]any, paths []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, path := range paths {
		v, ok := Lookup(claims, path)
		if !ok || v == nil {
			continue
		}
		switch v := v.(type) {
		case string:
			for _, s := range strings.Fields(v) {
				add(s)
			}
		case []any:
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("%w: %q holds a value that is not a string", ErrClaimType, path)
				}
				add(s)
			}
		case []string:
			for _, s := range v {
				add(s)
			}
		default:
			return nil, fmt.Errorf("%w: %q", ErrClaimType, path)
		}
	}
	return out, nil
}

// Lookup returns the value at path in claims: the member named path itself, or, splitting
// path at a dot, the member before it (an object) looked up with the rest.
func Lookup(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		sub, ok := claims[path[:i]].(map[string]any)
		if !ok {
			continue
		}
		if v, ok := Lookup(sub, path[i+1:]); ok {
			return v, true
		}
	}
	return nil, false
}

package identification

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

func TestProfileFieldRegistryPaths(t *testing.T) {
	r := newProfileFieldRegistry()
	require.Equal(t, []string{
		"address.city", "address.country", "address.houseNumber", "address.street", "address.zipCode",
		"business.administrator.email", "business.administrator.firstName", "business.administrator.lastName",
		"business.administrator.phone", "business.companyName", "business.legal", "business.type", "business.vat",
		"contact.accountNumber", "contact.address", "contact.city", "contact.country", "contact.email",
		"contact.firstName", "contact.lastName", "contact.nickname", "contact.phoneNumber", "contact.photoPath",
		"contact.postCode", "contact.swiftBic",
		"person.description", "person.nameIntl.first", "person.nameIntl.last", "person.nameIntl.middle",
		"person.namePlain.first", "person.namePlain.last", "person.namePlain.middle",
	}, r.paths)
	for _, notResettable := range []string{
		"type", "status", "contact.id", "contact.ownerId", "contact.linkedUserId", "contact.socialMedias",
		"additional", "security.twoFactorsAuthEnabled", "security.transactionNotification.phone", "person", "",
	} {
		require.False(t, r.known(notResettable), notResettable)
	}
}

// Every path names, in the profile's JSON, the field that set changes: the registry and the
// JSON shape cannot disagree.
func TestProfileFieldRegistryMatchesJSON(t *testing.T) {
	r := newProfileFieldRegistry()
	for _, path := range r.paths {
		var p ports.Profile
		r.set(&p, path, "value of "+path)
		require.Equal(t, "value of "+path, r.get(&p, path))
		raw, err := json.Marshal(p)
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(raw, &doc))
		var at any = doc
		for _, name := range strings.Split(path, ".") {
			obj, ok := at.(map[string]any)
			require.True(t, ok, path)
			at = obj[name]
		}
		require.Equal(t, "value of "+path, at, path)
	}
}

func TestProfileFieldRegistryIsPerService(t *testing.T) {
	a, b := newProfileFieldRegistry(), newProfileFieldRegistry()
	a.paths[0] = "changed"
	require.Equal(t, "address.city", b.paths[0], "registries share no state")
}

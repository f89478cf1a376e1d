package authmethod_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
)

func TestDefaultConfig(t *testing.T) {
	cfg := authmethod.DefaultConfig()
	require.NoError(t, cfg.Validate())
	require.Equal(t, 14, cfg.NoSelfRegistrationAge)
	require.Equal(t, 18, cfg.FullLegalCapacityAge)
	require.Equal(t, "Europe/Kyiv", cfg.TimeZone)
	require.Equal(t, []string{"DIVORCE_CERTIFICATE", "MARRIAGE_CERTIFICATE", "STATE_REGISTER_EXTRACT",
		"COURT_DECISION_LEGAL_CAPACITY", "COURT_DECISION_DIVORCE", "GUARDIANSHIP_DECISION_LEGAL_CAPACITY",
		"LEGAL_CAPACITY_DOCUMENT"}, cfg.LegalCapacityDocumentTypes)
}

func TestDefaultDocumentTypesCannotBeChanged(t *testing.T) {
	got := authmethod.DefaultLegalCapacityDocumentTypes()
	got[0] = "ANYTHING"
	require.Equal(t, "DIVORCE_CERTIFICATE", authmethod.DefaultLegalCapacityDocumentTypes()[0])
	require.Equal(t, "DIVORCE_CERTIFICATE", authmethod.DefaultConfig().LegalCapacityDocumentTypes[0])
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*authmethod.Config)
		want   []string // the entries named
	}{
		{"zero config", func(c *authmethod.Config) { *c = authmethod.Config{} },
			[]string{"NoSelfRegistrationAge", "FullLegalCapacityAge", "LegalCapacityDocumentTypes", "TimeZone"}},
		{"negative age", func(c *authmethod.Config) { c.NoSelfRegistrationAge = -1 }, []string{"NoSelfRegistrationAge"}},
		{"absurd age", func(c *authmethod.Config) { c.FullLegalCapacityAge = 180 }, []string{"FullLegalCapacityAge"}},
		{"ages out of order", func(c *authmethod.Config) { c.NoSelfRegistrationAge, c.FullLegalCapacityAge = 18, 14 }, []string{"FullLegalCapacityAge"}},
		{"blank document type", func(c *authmethod.Config) { c.LegalCapacityDocumentTypes = []string{"MARRIAGE_CERTIFICATE", " "} },
			[]string{"LegalCapacityDocumentTypes[1]"}},
		{"repeated document type", func(c *authmethod.Config) { c.LegalCapacityDocumentTypes = []string{"A", "B", "A"} },
			[]string{"LegalCapacityDocumentTypes[2]"}},
		{"empty document list", func(c *authmethod.Config) { c.LegalCapacityDocumentTypes = nil }, []string{"LegalCapacityDocumentTypes"}},
		{"unknown time zone", func(c *authmethod.Config) { c.TimeZone = "Europe/Atlantis" }, []string{"TimeZone"}},
		{"blank time zone", func(c *authmethod.Config) { c.TimeZone = "" }, []string{"TimeZone"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := authmethod.DefaultConfig()
			c.change(&cfg)
			err := cfg.Validate()
			requireError(t, err, verifykit.KindInvalidInput, "Invalid authentication-method configuration.")
			var e *verifykit.Error
			require.ErrorAs(t, err, &e)
			var got []string
			for _, in := range e.Invalid {
				require.Equal(t, verifykit.EntryConfig, in.EntryType)
				if len(got) == 0 || got[len(got)-1] != in.Entry {
					got = append(got, in.Entry)
				}
			}
			require.Equal(t, c.want, got)
			_, err = authmethod.NewService(authmethod.Deps{
				Persons: memory.NewPersonStore(), Methods: memory.NewAuthMethodStore(),
				Confidants: memory.NewConfidantStore(), Tokens: memory.NewTokens(),
			}, cfg)
			require.Error(t, err, "NewService validates the config")
		})
	}

	t.Run("equal ages are allowed", func(t *testing.T) {
		cfg := authmethod.DefaultConfig()
		cfg.NoSelfRegistrationAge, cfg.FullLegalCapacityAge = 16, 16
		require.NoError(t, cfg.Validate())
	})
}

func TestNewServiceNeedsDeps(t *testing.T) {
	_, err := authmethod.NewService(authmethod.Deps{}, authmethod.DefaultConfig())
	requireError(t, err, verifykit.KindInvalidInput, "Validation failed.")
	var e *verifykit.Error
	require.ErrorAs(t, err, &e)
	var names []string
	for _, in := range e.Invalid {
		names = append(names, in.Entry)
	}
	require.Equal(t, []string{"Persons", "Methods", "Confidants", "Tokens"}, names)
}

func TestConfigIsCopied(t *testing.T) {
	cfg := authmethod.DefaultConfig()
	svc, err := authmethod.NewService(authmethod.Deps{
		Persons: memory.NewPersonStore(), Methods: memory.NewAuthMethodStore(),
		Confidants: memory.NewConfidantStore(), Tokens: memory.NewTokens(),
	}, cfg)
	require.NoError(t, err)
	cfg.LegalCapacityDocumentTypes[0] = "CHANGED"
	got := svc.Config()
	require.Equal(t, "DIVORCE_CERTIFICATE", got.LegalCapacityDocumentTypes[0])
	got.LegalCapacityDocumentTypes[0] = "CHANGED"
	require.Equal(t, "DIVORCE_CERTIFICATE", svc.Config().LegalCapacityDocumentTypes[0])
}

package authmethod

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
)

// MaxAge bounds the ages of a Config, to catch typos such as 1800.
const MaxAge = 150

// DefaultLegalCapacityDocumentTypes returns the document types that give a minor full legal
// capacity, by default: a new slice on each call, so no caller can change another's
// defaults.
func DefaultLegalCapacityDocumentTypes() []string {
	return slices.Clone(defaultLegalCapacityDocumentTypes)
}

// defaultLegalCapacityDocumentTypes backs DefaultLegalCapacityDocumentTypes; never handed out.
var defaultLegalCapacityDocumentTypes = []string{
	"DIVORCE_CERTIFICATE",
	"MARRIAGE_CERTIFICATE",
	"STATE_REGISTER_EXTRACT",
	"COURT_DECISION_LEGAL_CAPACITY",
	"COURT_DECISION_DIVORCE",
	"GUARDIANSHIP_DECISION_LEGAL_CAPACITY",
	"LEGAL_CAPACITY_DOCUMENT",
}

// Config holds the global parameters of the rules. Start from DefaultConfig: every field is
// checked by NewService, and a zero value is an error, not a default.
type Config struct {
	// NoSelfRegistrationAge is the age under which a person cannot act alone
	// (no_self_registration_age). Default 14. From 1 to FullLegalCapacityAge.
	NoSelfRegistrationAge int
	// FullLegalCapacityAge is the age from which a person has full legal capacity
	// (person_full_legal_capacity_age). Default 18. From NoSelfRegistrationAge to MaxAge.
	FullLegalCapacityAge int
	// LegalCapacityDocumentTypes are the document types that let a person aged from
	// NoSelfRegistrationAge to under FullLegalCapacityAge act alone
	// (PIS_PERSON_LEGAL_CAPACITY_DOCUMENT_TYPES). Default
	// DefaultLegalCapacityDocumentTypes(). At least one; no blank or repeated entry.
	LegalCapacityDocumentTypes []string
	// TimeZone is the IANA name of the zone whose calendar ages are counted in. Default
	// "Europe/Kyiv". It must load with time.LoadLocation.
	TimeZone string
}

// DefaultConfig returns the defaults of the eHealth system.
func DefaultConfig() Config {
	return Config{
		NoSelfRegistrationAge:      14,
		FullLegalCapacityAge:       18,
		LegalCapacityDocumentTypes: DefaultLegalCapacityDocumentTypes(),
		TimeZone:                   "Europe/Kyiv",
	}
}

// Validate reports every problem of the config at once as a KindInvalidInput error whose
// entries name the fields.
func (c Config) Validate() error {
	_, err := c.location()
	return err
}

// location validates c and returns its time zone.
func (c Config) location() (*time.Location, error) {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if c.NoSelfRegistrationAge < 1 || c.NoSelfRegistrationAge > MaxAge {
		bad("NoSelfRegistrationAge", "range", fmt.Sprintf("must be from 1 to %d, got %d", MaxAge, c.NoSelfRegistrationAge))
	}
	if c.FullLegalCapacityAge < 1 || c.FullLegalCapacityAge > MaxAge {
		bad("FullLegalCapacityAge", "range", fmt.Sprintf("must be from 1 to %d, got %d", MaxAge, c.FullLegalCapacityAge))
	}
	if c.FullLegalCapacityAge < c.NoSelfRegistrationAge {
		bad("FullLegalCapacityAge", "order", fmt.Sprintf("must be at least NoSelfRegistrationAge (%d), got %d", c.NoSelfRegistrationAge, c.FullLegalCapacityAge))
	}
	if len(c.LegalCapacityDocumentTypes) == 0 {
		bad("LegalCapacityDocumentTypes", "required", "at least one document type is required")
	}
	seen := make(map[string]bool, len(c.LegalCapacityDocumentTypes))
	for i, typ := range c.LegalCapacityDocumentTypes {
		field := fmt.Sprintf("LegalCapacityDocumentTypes[%d]", i)
		switch {
		case strings.TrimSpace(typ) == "":
			bad(field, "required", "must not be blank")
		case seen[typ]:
			bad(field, "uniqueness", fmt.Sprintf("%q is listed twice", typ))
		}
		seen[typ] = true
	}
	var loc *time.Location
	if strings.TrimSpace(c.TimeZone) == "" {
		bad("TimeZone", "required", "an IANA time zone name is required, e.g. Europe/Kyiv")
	} else if l, err := time.LoadLocation(c.TimeZone); err != nil {
		bad("TimeZone", "format", fmt.Sprintf("cannot load time zone %q: %v", c.TimeZone, err))
	} else {
		loc = l
	}
	if err := v.Err(); err != nil {
		e := err.(*verifykit.Error)
		e.Message = "Invalid authentication-method configuration."
		return nil, e
	}
	return loc, nil
}

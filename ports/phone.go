package ports

import (
	"errors"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/verifykit/verifykit"
)

// PhoneType is the kind of line a phone number belongs to, by the numbering plan of its
// country (the metadata of libphonenumber, through github.com/nyaruka/phonenumbers).
type PhoneType string

// The phone number types ParsePhone reports.
const (
	PhoneMobile            PhoneType = "MOBILE"
	PhoneFixedLine         PhoneType = "FIXED_LINE"
	PhoneFixedLineOrMobile PhoneType = "FIXED_LINE_OR_MOBILE" // the plan does not tell them apart (the US, Canada)
	PhoneTollFree          PhoneType = "TOLL_FREE"
	PhonePremiumRate       PhoneType = "PREMIUM_RATE"
	PhoneSharedCost        PhoneType = "SHARED_COST"
	PhoneVoIP              PhoneType = "VOIP"
	PhonePersonal          PhoneType = "PERSONAL_NUMBER"
	PhonePager             PhoneType = "PAGER"
	PhoneUAN               PhoneType = "UAN"
	PhoneVoicemail         PhoneType = "VOICEMAIL"
	PhoneUnknown           PhoneType = "UNKNOWN"
)

// PhoneTypes lists every PhoneType, in a fixed order.
func PhoneTypes() []PhoneType {
	return []PhoneType{PhoneMobile, PhoneFixedLine, PhoneFixedLineOrMobile, PhoneTollFree, PhonePremiumRate,
		PhoneSharedCost, PhoneVoIP, PhonePersonal, PhonePager, PhoneUAN, PhoneVoicemail, PhoneUnknown}
}

// Phone is a valid phone number, parsed.
type Phone struct {
	// E164 is the number in E.164 form, e.g. "+380931234585": the form every store keeps.
	E164 string
	// CallingCode is the country calling code, e.g. 380.
	CallingCode int
	// National is the national significant number, e.g. "931234585".
	National string
	// Region is the ISO 3166-1 alpha-2 code of the region the number belongs to, e.g.
	// "UA"; "001" for a non-geographic number (+800, +882, ...).
	Region string
	// Type is the kind of line.
	Type PhoneType
}

// MaxPhoneLen is the longest phone number ParsePhone reads, in bytes, separators included.
const MaxPhoneLen = 64

// ErrInvalidPhone is the cause of every error ParsePhone answers.
var ErrInvalidPhone = errors.New("ports: invalid phone number")

// PhoneFormatHint is what a refused phone number is told it must be.
const PhoneFormatHint = "must be a valid phone number in international form, e.g. +380931234585"

// ParsePhone reads a phone number in international form: "+", the country calling code and
// the national number, with spaces, hyphens, dots or parentheses between digits allowed
// ("+380 93 123-45-85"); a national trunk prefix after the calling code is dropped
// ("+380 093 ..."). The number must be valid in its country's numbering plan, not merely
// of a possible length. It answers the number in E.164 form with its region and type, or a
// KindInvalidInput error naming "$.phone_number" (rule "format", cause ErrInvalidPhone):
// flows rename the entry to their own field with verifykit.RenameEntry. Letters, an
// extension, non-ASCII digits and a missing "+" are refused.
func ParsePhone(raw string) (Phone, error) {
	raw = strings.TrimSpace(raw)
	if !phoneShaped(raw) {
		return Phone{}, invalidPhone()
	}
	cc, nsn, ok := parseShaped(raw)
	if !ok {
		return Phone{}, invalidPhone()
	}
	// A number is valid (phonenumbers.IsValidNumber) exactly when the plan of the region
	// it belongs to gives it a type; the E.164 form is "+", the calling code and the
	// national significant number (phonenumbers.Format with E164 writes the same).
	region, t := classify(cc, nsn)
	if t == PhoneUnknown {
		return Phone{}, invalidPhone()
	}
	p := Phone{E164: "+" + strconv.Itoa(cc) + nsn, CallingCode: cc, National: nsn, Region: region, Type: t}
	if !ValidE164(p.E164) {
		return Phone{}, invalidPhone()
	}
	return p, nil
}

// phoneShaped reports whether s is "+" and ASCII digits, with single separators (space,
// hyphen, dot, parentheses) between them, within MaxPhoneLen.
func phoneShaped(s string) bool {
	if len(s) < 2 || len(s) > MaxPhoneLen || s[0] != '+' {
		return false
	}
	digits := 0
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return false
		}
	}
	return digits >= 2
}

func invalidPhone() error {
	e := verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
		Entry: "$.phone_number", EntryType: verifykit.EntryJSONProperty, Rule: "format", Description: PhoneFormatHint,
	})
	e.Err = ErrInvalidPhone
	return e
}

// ValidRegion reports whether r is a region code ParsePhone can answer: an ISO 3166-1
// alpha-2 code of a region with a numbering plan (upper case), or "001" for non-geographic
// numbers.
func ValidRegion(r string) bool {
	if r == "001" {
		return true
	}
	if len(r) != 2 || r != strings.ToUpper(r) {
		return false
	}
	return phonenumbers.GetCountryCodeForRegion(r) != 0
}

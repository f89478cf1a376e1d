package ports

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Most of phonenumbers.Parse's time goes into regular expressions that can find nothing in
// a number ParsePhone accepts at all ("+" and digits with separators): an extension ("ext.
// 12", "#", ";ext="), letters, a second number, an RFC 3966 context. What is left of its
// work for such a number is to take the calling code off the digits and, where the
// country's plan has a national (trunk) prefix, to drop it. parseShaped does that itself
// when no trunk prefix can be in the way, and hands every other number to
// phonenumbers.Parse; TestParsePhoneAgreesWithReference compares both on every numbering
// plan.

// The national significant number's bounds in phonenumbers (MIN_LENGTH_FOR_NSN,
// MAX_LENGTH_FOR_NSN), and the longest calling code.
const (
	minNSN         = 2
	maxNSN         = 17
	maxCallingCode = 3
)

// trunkPrefixes returns, by calling code, the pattern of the national prefix the plan of
// the calling code's main region lets a number start with (its
// national_prefix_for_parsing, anchored), for the codes that have one: what
// phonenumbers.Parse tries to drop after the calling code. Built once from the metadata
// phonenumbers itself parses with, and never changed.
var trunkPrefixes = sync.OnceValue(func() map[int]*regexp.Regexp {
	out := make(map[int]*regexp.Regexp)
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil // parseShaped then hands every number to phonenumbers.Parse
	}
	for _, m := range coll.GetMetadata() {
		cc := int(m.GetCountryCode())
		if m.GetId() != phonenumbers.GetRegionCodeForCountryCode(cc) || m.GetNationalPrefixForParsing() == "" {
			continue // another region sharing the code ("CA" for 1), or no prefix
		}
		re, err := regexp.Compile("^(?:" + m.GetNationalPrefixForParsing() + ")")
		if err != nil {
			return nil
		}
		out[cc] = re
	}
	return out
})

// parseShaped parses raw, which phoneShaped accepted, into n as phonenumbers.Parse(raw, "")
// would, and reports whether the number parsed.
func parseShaped(raw string, n *phonenumbers.PhoneNumber) bool {
	var buf [MaxPhoneLen]byte
	digits := buf[:0]
	for i := 1; i < len(raw); i++ {
		if c := raw[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	cc, national, ok := splitCallingCode(digits)
	if !ok {
		return phonenumbers.ParseToNumber(raw, "", n) == nil && n.GetExtension() == ""
	}
	nn, err := strconv.ParseUint(string(national), 10, 64)
	if err != nil {
		return phonenumbers.ParseToNumber(raw, "", n) == nil && n.GetExtension() == ""
	}
	code := int32(cc)
	*n = phonenumbers.PhoneNumber{CountryCode: &code, NationalNumber: &nn}
	return true
}

// splitCallingCode takes the calling code off digits as phonenumbers.Parse does (the
// shortest of the first one to three digits that is a calling code) and answers it with
// the national number, when that number is taken as it stands: of a national significant
// number's length, with no leading zero (an Italian-style zero phonenumbers keeps apart),
// and not starting with anything the plan's national prefix matches. ok is false when
// phonenumbers.Parse has to decide.
func splitCallingCode(digits []byte) (cc int, national []byte, ok bool) {
	if len(digits) < 3 || digits[0] == '0' {
		return 0, nil, false
	}
	codes := phonenumbers.GetSupportedCallingCodes()
	c := 0
	for i := 0; i < maxCallingCode; i++ {
		c = c*10 + int(digits[i]-'0')
		if codes[c] {
			cc, national = c, digits[i+1:]
			break
		}
	}
	if cc == 0 || len(national) < minNSN || len(national) > maxNSN || national[0] == '0' {
		return 0, nil, false
	}
	prefixes := trunkPrefixes()
	if prefixes == nil {
		return 0, nil, false
	}
	if re := prefixes[cc]; re != nil && re.Match(national) {
		return 0, nil, false
	}
	return cc, national, true
}

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
// phonenumbers.Parse. The number's region and type are then read from the same numbering
// plans phonenumbers reads (its metadata), in the same order, with each pattern compiled
// once (phonenumbers rebuilds and looks up every pattern's text on every call, and
// matches most twice). TestParsePhoneAgreesWithReference and
// TestParsePhoneAgreesWithReferenceOnRandomNumbers compare the result with phonenumbers'
// own Parse, IsValidNumber, GetRegionCodeForNumber and GetNumberType on every plan.

// The national significant number's bounds in phonenumbers (MIN_LENGTH_FOR_NSN,
// MAX_LENGTH_FOR_NSN), and the longest calling code.
const (
	minNSN         = 2
	maxNSN         = 17
	maxCallingCode = 3
)

// numberingPlans are the plans of every calling code, from phonenumbers' metadata. Built
// once; each code's patterns are compiled the first time a number of the code is read.
var numberingPlans = sync.OnceValue(func() map[int]*callingCodePlan {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return nil // parseShaped then hands every number to phonenumbers
	}
	byRegion := make(map[string]*phonenumbers.PhoneMetadata)
	nonGeo := make(map[int]*phonenumbers.PhoneMetadata)
	for _, m := range coll.GetMetadata() {
		if m.GetId() == nonGeoRegion {
			nonGeo[int(m.GetCountryCode())] = m
		} else {
			byRegion[m.GetId()] = m
		}
	}
	out := make(map[int]*callingCodePlan)
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		p := &callingCodePlan{}
		for _, r := range phonenumbers.GetRegionCodesForCountryCode(cc) {
			m := byRegion[r]
			if r == nonGeoRegion {
				m = nonGeo[cc]
			}
			p.meta = append(p.meta, m) // nil when phonenumbers has no plan for r
		}
		out[cc] = p
	}
	return out
})

// nonGeoRegion is the region of non-geographic numbers (+800, +882, ...).
const nonGeoRegion = "001"

// callingCodePlan is what ParsePhone reads of one calling code's plans.
type callingCodePlan struct {
	meta    []*phonenumbers.PhoneMetadata // of the code's regions, the main one first
	once    sync.Once
	trunk   *regexp.Regexp // the main region's national prefix for parsing, anchored; nil: none
	regions []regionPlan   // of meta, in order
	ok      bool           // every pattern compiled
}

// regionPlan is one region's plan: what tells its numbers from other regions' of the same
// code, and the pattern of every type of number, in the order phonenumbers tries them.
type regionPlan struct {
	id                 string
	leading            *regexp.Regexp // nil: the region is told by its patterns
	general            numberDesc
	types              [8]typedDesc // premium rate, toll free, shared cost, VoIP, personal, pager, UAN, voicemail
	fixed, mobile      numberDesc
	sameMobileAndFixed bool
	missing            bool // phonenumbers has no plan for the region
}

type typedDesc struct {
	numberDesc
	typ PhoneType
}

// numberDesc is one pattern of a plan: the lengths a number of it may have (none: any) and
// the pattern of its national significant number, anchored at both ends.
type numberDesc struct {
	lengths []int32
	re      *regexp.Regexp
}

// matches is phonenumbers' isNumberMatchingDesc.
func (d *numberDesc) matches(nsn string) bool {
	if d.re == nil {
		return false
	}
	if len(d.lengths) > 0 {
		found := false
		for _, l := range d.lengths {
			if int(l) == len(nsn) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return d.re.MatchString(nsn)
}

// compile builds the plan's patterns, once.
func (p *callingCodePlan) compile() bool {
	p.once.Do(func() {
		p.ok = true
		compile := func(pattern string) *regexp.Regexp {
			re, err := regexp.Compile(pattern)
			if err != nil {
				p.ok = false
			}
			return re
		}
		desc := func(d *phonenumbers.PhoneNumberDesc) numberDesc {
			if d == nil {
				return numberDesc{}
			}
			return numberDesc{lengths: d.GetPossibleLength(), re: compile("^(?:" + d.GetNationalNumberPattern() + ")$")}
		}
		if main := p.meta[0]; main != nil && main.GetNationalPrefixForParsing() != "" {
			p.trunk = compile("^(?:" + main.GetNationalPrefixForParsing() + ")")
		}
		for _, m := range p.meta {
			if m == nil {
				p.regions = append(p.regions, regionPlan{missing: true})
				continue
			}
			r := regionPlan{
				id: m.GetId(), general: desc(m.GetGeneralDesc()),
				types: [8]typedDesc{
					{desc(m.GetPremiumRate()), PhonePremiumRate}, {desc(m.GetTollFree()), PhoneTollFree},
					{desc(m.GetSharedCost()), PhoneSharedCost}, {desc(m.GetVoip()), PhoneVoIP},
					{desc(m.GetPersonalNumber()), PhonePersonal}, {desc(m.GetPager()), PhonePager},
					{desc(m.GetUan()), PhoneUAN}, {desc(m.GetVoicemail()), PhoneVoicemail},
				},
				fixed: desc(m.GetFixedLine()), mobile: desc(m.GetMobile()),
				sameMobileAndFixed: m.GetSameMobileAndFixedLinePattern(),
			}
			if m.GetLeadingDigits() != "" {
				r.leading = compile("^(?:" + m.GetLeadingDigits() + ")")
			}
			p.regions = append(p.regions, r)
		}
	})
	return p.ok
}

// typeOf is phonenumbers' getNumberTypeHelper: the type of the national significant
// number nsn in the region's plan, or PhoneUnknown when the plan has no such number.
func (r *regionPlan) typeOf(nsn string) PhoneType {
	if r.missing || !r.general.matches(nsn) {
		return PhoneUnknown
	}
	for i := range r.types {
		if r.types[i].matches(nsn) {
			return r.types[i].typ
		}
	}
	if r.fixed.matches(nsn) {
		if r.sameMobileAndFixed || r.mobile.matches(nsn) {
			return PhoneFixedLineOrMobile
		}
		return PhoneFixedLine
	}
	if !r.sameMobileAndFixed && r.mobile.matches(nsn) {
		return PhoneMobile
	}
	return PhoneUnknown
}

// classify is phonenumbers' GetRegionCodeForNumber and GetNumberType for a number of
// calling code cc and national significant number nsn: its region ("" when none of the
// code's regions has it) and type (PhoneUnknown: no such number, or no plan could be
// read, in which case phonenumbers itself would have failed to start).
func classify(cc int, nsn string) (region string, typ PhoneType) {
	p := numberingPlans()[cc]
	if p == nil || !p.compile() {
		return "", PhoneUnknown
	}
	var r *regionPlan
	if len(p.regions) == 1 {
		r = &p.regions[0]
	} else {
		for i := range p.regions {
			c := &p.regions[i]
			if c.missing {
				continue
			}
			if c.leading != nil {
				if c.leading.MatchString(nsn) {
					r = c
					break
				}
			} else if c.typeOf(nsn) != PhoneUnknown {
				r = c
				break
			}
		}
	}
	if r == nil || r.missing {
		return "", PhoneUnknown
	}
	return r.id, r.typeOf(nsn)
}

// parseShaped parses raw, which phoneShaped accepted, as phonenumbers.Parse(raw, "")
// would, and answers the number's calling code and national significant number; ok is
// false when it is no number.
func parseShaped(raw string) (cc int, nsn string, ok bool) {
	var buf [MaxPhoneLen]byte
	digits := buf[:0]
	for i := 1; i < len(raw); i++ {
		if c := raw[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if cc, national, ok := splitCallingCode(digits); ok {
		return cc, string(national), true
	}
	var n phonenumbers.PhoneNumber
	if phonenumbers.ParseToNumber(raw, "", &n) != nil || n.GetExtension() != "" {
		return 0, "", false
	}
	return int(n.GetCountryCode()), phonenumbers.GetNationalSignificantNumber(&n), true
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
	p := numberingPlans()[cc]
	if p == nil || !p.compile() || p.trunk != nil && p.trunk.Match(national) {
		return 0, nil, false
	}
	// The national number is all digits: it fits the uint64 phonenumbers keeps it in.
	if _, err := strconv.ParseUint(string(national), 10, 64); err != nil {
		return 0, nil, false
	}
	return cc, national, true
}

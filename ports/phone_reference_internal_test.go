package ports

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"github.com/stretchr/testify/require"
)

// referenceParsePhone is ParsePhone as it was written first, with every number handed to
// phonenumbers.Parse and every check phonenumbers offers asked separately (IsValidNumber,
// Format, GetNumberType): ParsePhone must answer what it answers for every input.
func referenceParsePhone(raw string) (Phone, bool) {
	raw = strings.TrimSpace(raw)
	if !phoneShaped(raw) {
		return Phone{}, false
	}
	n, err := phonenumbers.Parse(raw, "")
	if err != nil || n.GetExtension() != "" || !phonenumbers.IsValidNumber(n) {
		return Phone{}, false
	}
	p := Phone{
		E164:        phonenumbers.Format(n, phonenumbers.E164),
		CallingCode: int(n.GetCountryCode()),
		National:    phonenumbers.GetNationalSignificantNumber(n),
		Region:      phonenumbers.GetRegionCodeForNumber(n),
		Type:        PhoneUnknown,
	}
	if t, ok := referenceTypes[phonenumbers.GetNumberType(n)]; ok {
		p.Type = t
	}
	if !ValidE164(p.E164) || p.E164 != "+"+strconv.Itoa(p.CallingCode)+p.National {
		return Phone{}, false
	}
	return p, true
}

// referenceTypes are ParsePhone's names of phonenumbers' types.
var referenceTypes = map[phonenumbers.PhoneNumberType]PhoneType{
	phonenumbers.MOBILE:               PhoneMobile,
	phonenumbers.FIXED_LINE:           PhoneFixedLine,
	phonenumbers.FIXED_LINE_OR_MOBILE: PhoneFixedLineOrMobile,
	phonenumbers.TOLL_FREE:            PhoneTollFree,
	phonenumbers.PREMIUM_RATE:         PhonePremiumRate,
	phonenumbers.SHARED_COST:          PhoneSharedCost,
	phonenumbers.VOIP:                 PhoneVoIP,
	phonenumbers.PERSONAL_NUMBER:      PhonePersonal,
	phonenumbers.PAGER:                PhonePager,
	phonenumbers.UAN:                  PhoneUAN,
	phonenumbers.VOICEMAIL:            PhoneVoicemail,
}

// requireAgrees fails t unless ParsePhone answers what referenceParsePhone answers for
// every input, and returns how many of them were valid numbers.
func requireAgrees(t *testing.T, inputs []string) (valid int) {
	t.Helper()
	for _, in := range inputs {
		want, ok := referenceParsePhone(in)
		got, err := ParsePhone(in)
		if !ok {
			require.ErrorIs(t, err, ErrInvalidPhone, in)
			continue
		}
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		valid++
	}
	return valid
}

// TestParsePhoneAgreesWithReference compares ParsePhone with referenceParsePhone on the
// example number of every type of every region and non-geographic calling code, each also
// written with its national prefix, with separators and with its last digit changed: valid
// and invalid numbers of every numbering plan.
func TestParsePhoneAgreesWithReference(t *testing.T) {
	var nums []*phonenumbers.PhoneNumber
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	for _, r := range regions {
		for _, typ := range types {
			if n := phonenumbers.GetExampleNumberForType(r, typ); n != nil {
				nums = append(nums, n)
			}
		}
	}
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(cc); n != nil {
			nums = append(nums, n)
		}
	}
	require.Greater(t, len(nums), 1000)
	var inputs []string
	for _, n := range nums {
		cc := strconv.Itoa(int(n.GetCountryCode()))
		nsn := phonenumbers.GetNationalSignificantNumber(n)
		ndd := phonenumbers.GetNddPrefixForRegion(phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode())), true)
		last := nsn[len(nsn)-1]
		inputs = append(inputs,
			"+"+cc+nsn,
			"+"+cc+" "+ndd+nsn,
			"+"+cc+" ("+nsn[:1]+") "+nsn[1:],
			"+"+cc+nsn[:len(nsn)-1]+string('0'+(last-'0'+5)%10),
		)
	}
	require.Greater(t, requireAgrees(t, inputs), 2000, "most example numbers are valid")
}

// TestParsePhoneAgreesWithReferenceOnRandomNumbers compares ParsePhone with
// referenceParsePhone on random digits after every calling code: of random lengths from 1
// to 18, starting with the plan's national prefix, with leading zeros, written with
// separators; and on random digits with no calling code in mind.
func TestParsePhoneAgreesWithReferenceOnRandomNumbers(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	codes := make([]int, 0, 256)
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	var inputs []string
	for _, cc := range codes {
		c := strconv.Itoa(cc)
		ndd := phonenumbers.GetNddPrefixForRegion(phonenumbers.GetRegionCodeForCountryCode(cc), true)
		for range 3 {
			n := 1 + rng.IntN(18)
			inputs = append(inputs, "+"+c+digits(n), "+"+c+ndd+digits(n), "+"+c+"0"+digits(n), "+"+c+"00"+digits(n))
		}
		d := digits(6 + rng.IntN(6))
		inputs = append(inputs, "+"+c+" "+d[:2]+"-"+d[2:5]+"."+d[5:], "+"+c+" ("+ndd+d[:2]+") "+d[2:], "+("+c+")"+d+")")
	}
	for range 1000 {
		inputs = append(inputs, "+"+digits(1+rng.IntN(18)))
	}
	require.Greater(t, requireAgrees(t, inputs), 100, "some random numbers are valid")
}

// BenchmarkParsePhone measures ParsePhone beside referenceParsePhone on a new Spanish
// mobile number each time (no cache in between).
func BenchmarkParsePhone(b *testing.B) {
	for _, bc := range []struct {
		name  string
		parse func(string) bool
	}{
		{"ParsePhone", func(s string) bool { _, err := ParsePhone(s); return err == nil }},
		{"reference", func(s string) bool { _, ok := referenceParsePhone(s); return ok }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if !bc.parse("+346" + strconv.Itoa(10000000+i%90000000)) {
					b.Fatal("refused")
				}
				i++
			}
		})
	}
}

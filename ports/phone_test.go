package ports_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

func TestParsePhone(t *testing.T) {
	cases := []struct {
		in     string
		e164   string // "" when refused
		region string
		typ    ports.PhoneType
	}{
		{in: "+380 93 123-45-85", e164: "+380931234585", region: "UA", typ: ports.PhoneMobile},
		{in: "+380 093 123 45 85", e164: "+380931234585", region: "UA", typ: ports.PhoneMobile},
		{in: " +34600111222 ", e164: "+34600111222", region: "ES", typ: ports.PhoneMobile},
		{in: "+1 (202) 555-0143", e164: "+12025550143", region: "US", typ: ports.PhoneFixedLineOrMobile},
		{in: "+19005550100", e164: "+19005550100", region: "US", typ: ports.PhonePremiumRate},
		{in: "+34902123456", e164: "+34902123456", region: "ES", typ: ports.PhoneSharedCost},
		{in: "+445612345678", e164: "+445612345678", region: "GB", typ: ports.PhoneVoIP},
		{in: "+442079460000", e164: "+442079460000", region: "GB", typ: ports.PhoneFixedLine},
		{in: "+12345678"},           // possible length, no such number
		{in: "+380931234585123"},    // too long for Ukraine
		{in: "0931234585"},          // national form
		{in: "380931234585"},        // no "+"
		{in: "+1 800 FLOWERS"},      // letters
		{in: "+1 202 555 0143 x12"}, // an extension
		{in: "+38093123458５"},       // a non-ASCII digit
		{in: "+"},
		{in: ""},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ports.ParsePhone(tc.in)
			if tc.e164 == "" {
				require.ErrorIs(t, err, ports.ErrInvalidPhone)
				require.ErrorIs(t, err, verifykit.ErrInvalidInput)
				var ve *verifykit.Error
				require.ErrorAs(t, err, &ve)
				require.Equal(t, "$.phone_number", ve.Invalid[0].Entry)
				require.Equal(t, "format", ve.Invalid[0].Rule)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.e164, p.E164)
			require.Equal(t, tc.region, p.Region)
			require.Equal(t, tc.typ, p.Type)
			require.Equal(t, tc.e164, "+"+itoa(p.CallingCode)+p.National)
			again, err := ports.ParsePhone(p.E164)
			require.NoError(t, err)
			require.Equal(t, p, again, "the E.164 form parses to itself")
		})
	}
}

func itoa(n int) string {
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestValidRegion(t *testing.T) {
	for r, want := range map[string]bool{"UA": true, "US": true, "001": true, "ua": false, "XX": false, "UKR": false, "": false} {
		require.Equal(t, want, ports.ValidRegion(r), r)
	}
}

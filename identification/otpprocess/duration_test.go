package otpprocess_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification/otpprocess"
)

const day = 24 * time.Hour

func TestParseISODuration(t *testing.T) {
	ok := []struct {
		in   string
		want time.Duration
	}{
		{"P7D", 7 * day},
		{"PT720H", 30 * day},
		{"P30D", 30 * day},
		{"P30DT1S", 30*day + time.Second},
		{"P31D", 31 * day},
		{"P0D", 0},
		{"PT0S", 0},
		{"P2W", 14 * day},
		{"P1W2D", 9 * day},
		{"P1DT2H3M4S", day + 2*time.Hour + 3*time.Minute + 4*time.Second},
		{"PT1M", time.Minute},
		{"PT90M", 90 * time.Minute},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT1,25S", 1250 * time.Millisecond},
		{"PT0.000000001S", time.Nanosecond},
		{"PT1H0.123456789S", time.Hour + 123456789},
		{"P007D", 7 * day},
		{"PT9223372036.854775807S", time.Duration(math.MaxInt64)},
	}
	for _, tc := range ok {
		t.Run(tc.in, func(t *testing.T) {
			got, err := otpprocess.ParseISODuration(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	bad := []struct{ in, reason string }{
		{"", "is empty"},
		{"P1M", "years and months are ambiguous; use weeks or days"},
		{"P1Y", "years and months are ambiguous; use weeks or days"},
		{"P1Y2D", "years and months are ambiguous; use weeks or days"},
		{"-P1D", "must not be negative"},
		{"+P1D", `must start with "P"`},
		{"garbage", `must start with "P"`},
		{"7D", `must start with "P"`},
		{"p7d", `must start with "P"`},
		{"P", "has no components"},
		{"PT", "has no components"},
		{"P1DT", `has no time component after "T"`},
		{"PT1HT2M", `has more than one "T"`},
		{"P1D1D", "has its units repeated or out of order"},
		{"P1D2W", "has its units repeated or out of order"},
		{"PT1S2H", "has its units repeated or out of order"},
		{"P1H", "has an unknown designator 'H'"},
		{"PT1D", "has an unknown designator 'D'"},
		{"P1X", "has an unknown designator 'X'"},
		{"P1.5D", "may have a fraction in its seconds only"},
		{"PT1.5H", "may have a fraction in its seconds only"},
		{"PT1.S", "has a decimal sign without digits after it"},
		{"PT0.1234567891S", "has more than 9 fractional digits"},
		{"PD", "has a designator without a number"},
		{"PT.5S", "has a designator without a number"},
		{"P7", "has a number without a designator"},
		{"P 7D", "has a designator without a number"},
		{"P7D ", "has a designator without a number"},
		{"PT9223372037S", "is too large"},
		{"P99999999999999999999D", "is too large"},
		{"PT9223372036.854775808S", "is too large"},
		{"P106751DT23H47M17S", "is too large"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.in, func(t *testing.T) {
			_, err := otpprocess.ParseISODuration(tc.in)
			require.Error(t, err)
			require.Equal(t, verifykit.KindInvalidInput, verifykit.KindOf(err))
			require.Equal(t, "invalid ISO-8601 duration: "+tc.reason, err.Error())
		})
	}
}

func TestFormatISODuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "PT0S"},
		{30 * day, "P30D"},
		{90 * time.Minute, "PT1H30M"},
		{day + 2*time.Second + 500*time.Millisecond, "P1DT2.5S"},
		{time.Nanosecond, "PT0.000000001S"},
		{-time.Hour, "-PT1H"},
		{time.Duration(math.MinInt64), "-P106751DT23H47M16.854775808S"},
	} {
		require.Equal(t, tc.want, otpprocess.FormatISODuration(tc.in))
	}
}

func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"P7D", "PT720H", "P30DT1S", "P1M", "-P1D", "P0D", "PT1,5S", "P2W3DT4H5M6.789S", "garbage", "PT", "P1DT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := otpprocess.ParseISODuration(s)
		if err != nil {
			if verifykit.KindOf(err) != verifykit.KindInvalidInput {
				t.Fatalf("ParseISODuration(%q): error of kind %v", s, verifykit.KindOf(err))
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseISODuration(%q) = %v, negative", s, d)
		}
		back, err := otpprocess.ParseISODuration(otpprocess.FormatISODuration(d))
		if err != nil || back != d {
			t.Fatalf("ParseISODuration(%q) = %v; its format %q parses to %v, %v", s, d, otpprocess.FormatISODuration(d), back, err)
		}
	})
}

package ports

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSplitCallingCode pins which numbers parseShaped takes apart itself and which it
// leaves to phonenumbers.Parse.
func TestSplitCallingCode(t *testing.T) {
	for _, tc := range []struct {
		digits   string
		cc       int
		national string // "" when phonenumbers.Parse decides
	}{
		{"34699999999", 34, "699999999"},
		{"380931234585", 380, "931234585"},
		{"12025550143", 1, "2025550143"},
		{"80012345678", 800, "12345678"},
		{"3800931234585", 0, ""}, // a leading zero: Ukraine's trunk prefix
		{"390612345678", 0, ""},  // Italy's leading zero belongs to the number
		{"78001234567", 0, ""},   // Russia's trunk prefix is 8
		{"441", 0, ""},           // too short to take apart
		{"0123456789", 0, ""},    // no calling code starts with 0
		{"99912345678", 0, ""},   // 9, 99, 999: no calling code
	} {
		cc, national, ok := splitCallingCode([]byte(tc.digits))
		require.Equal(t, tc.national != "", ok, tc.digits)
		if ok {
			require.Equal(t, tc.cc, cc, tc.digits)
			require.Equal(t, tc.national, string(national), tc.digits)
		}
	}
}

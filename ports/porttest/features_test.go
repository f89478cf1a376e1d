package porttest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCaseNamesAreDistinct: every suite names its cases, each once, so that a failing case
// reads by a name of its own (t.Run would add "#01" to a second one).
func TestCaseNamesAreDistinct(t *testing.T) {
	suites := CaseNames()
	require.Len(t, suites, 13, "one entry per Run function")
	for suite, names := range suites {
		require.NotEmpty(t, names, suite)
		seen := map[string]bool{}
		for _, n := range names {
			require.NotEmpty(t, n, suite)
			require.False(t, seen[n], "%s: %s named twice", suite, n)
			seen[n] = true
		}
	}
	require.Contains(t, suites["OTPStore"], "EveryFieldRoundTrips/VerifiedCode", "sub-cases after their case")
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
)

// TestDemos runs every flow of the quickstart, as `go run ./examples/quickstart` does.
func TestDemos(t *testing.T) {
	for _, d := range demos() {
		t.Run(d.title, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, d.run(context.Background(), &out))
			require.NotEmpty(t, out.String())
		})
	}
}

// TestDemosReadAsAPersonWouldSay checks the printed story: no record id passed off as a
// code, no error text that repeats itself, and every invalid-input error names its entry.
func TestDemosReadAsAPersonWouldSay(t *testing.T) {
	var out bytes.Buffer
	for _, d := range demos() {
		require.NoError(t, d.run(context.Background(), &out))
	}
	for _, line := range strings.Split(out.String(), "\n") {
		require.NotContains(t, line, "Issued code", "a record id is not a code")
		require.NotContains(t, line, "otp: ", "wrapped causes are for logs: %s", line)
		require.NotContains(t, line, "identification: ", "wrapped causes are for logs: %s", line)
		require.NotContains(t, line, "otpprocess: ", "wrapped causes are for logs: %s", line)
		if strings.Contains(line, "invalid_input") {
			require.Contains(t, line, "$.", "an invalid input names its entry: %s", line)
		}
		for _, phrase := range []string{"attempts left", "try again in"} {
			require.LessOrEqual(t, strings.Count(line, phrase), 1, "said twice: %s", line)
		}
	}
}

func TestDescribe(t *testing.T) {
	require.Equal(t, "no error", describe(nil))
	err := fmt.Errorf("resend: %w", verifykit.Invalid("Validation failed.",
		verifykit.InvalidEntry{Entry: "$.alias", Rule: "unknown", Description: "no such alias"}))
	require.Equal(t, `invalid_input "Validation failed." — $.alias no such alias`, describe(err))
	limited := &verifykit.Error{Kind: verifykit.KindRateLimited, Message: "Too many codes.", RetryAfter: 1500 * time.Millisecond}
	require.Equal(t, `rate_limited "Too many codes." (try again in 2s)`, describe(limited))
}

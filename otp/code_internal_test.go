package otp

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenerateCodeShape(t *testing.T) {
	for digits := MinDigits; digits <= MaxDigits; digits++ {
		for range 200 {
			c := generateCode(digits)
			require.Len(t, c, digits)
			require.True(t, validCode(c), "digits only: %q", c)
		}
	}
}

func TestFormatCodeKeepsLeadingZeros(t *testing.T) {
	require.Equal(t, "000007", formatCode(7, 6))
	require.Equal(t, "0000", formatCode(0, 4))
	require.Equal(t, "9999999999", formatCode(9999999999, 10))
	// Over many 4-digit codes about one in ten starts with a zero; none may be shortened.
	zeros := 0
	for range 2000 {
		c := generateCode(4)
		require.Len(t, c, 4)
		if c[0] == '0' {
			zeros++
		}
	}
	require.Positive(t, zeros)
}

func TestUniformRejectsTheBiasedTail(t *testing.T) {
	// The values at or above the largest multiple of n must be drawn again.
	n := uint64(1_000_000)
	limit := math.MaxUint64 - math.MaxUint64%n
	draws := []uint64{math.MaxUint64, limit, limit - 1}
	i := 0
	got := uniform(n, func() uint64 { v := draws[i]; i++; return v })
	require.Equal(t, 3, i, "two draws in the biased tail were rejected")
	require.Equal(t, (limit-1)%n, got)
}

// chiSquare returns, per digit position, the chi-square statistic of the digit counts of
// codes against a uniform distribution (9 degrees of freedom each).
func chiSquare(codes []string) []float64 {
	digits := len(codes[0])
	stats := make([]float64, digits)
	for pos := range digits {
		var counts [10]float64
		for _, c := range codes {
			counts[c[pos]-'0']++
		}
		want := float64(len(codes)) / 10
		for _, n := range counts {
			stats[pos] += (n - want) * (n - want) / want
		}
	}
	return stats
}

// Critical values at p = 1e-6 (Wilson–Hilferty): the check fails a correct generator about
// once in a million runs.
const (
	chi2Crit9  = 46.0  // 9 degrees of freedom: one position
	chi2Crit54 = 119.0 // 54 degrees of freedom: six positions summed
)

func uniformityProblems(codes []string) []string {
	var problems []string
	sum := 0.0
	for pos, s := range chiSquare(codes) {
		sum += s
		if s > chi2Crit9 {
			problems = append(problems, "position "+string(rune('0'+pos))+" is not uniform")
		}
	}
	if sum > chi2Crit54 {
		problems = append(problems, "digits are not uniform overall")
	}
	return problems
}

func TestCodesAreUniform(t *testing.T) {
	codes := make([]string, 100_000)
	for i := range codes {
		codes[i] = generateCode(6)
	}
	require.Empty(t, uniformityProblems(codes))
}

func TestUniformityCheckCatchesModuloBias(t *testing.T) {
	// A generator that takes a random byte modulo 10 per digit favours 0-5: the check must
	// see it, or it proves nothing.
	codes := make([]string, 100_000)
	for i := range codes {
		var b strings.Builder
		for range 6 {
			b.WriteByte(byte('0' + byte(readUint64())%10))
		}
		codes[i] = b.String()
	}
	require.NotEmpty(t, uniformityProblems(codes))
}

func TestConstantTimeEqual(t *testing.T) {
	h := newHasher([]byte(strings.Repeat("k", 32)))
	a := h.sum(nil, "id", "p", "s", "123456")
	require.Len(t, a, 32)
	require.True(t, h.matches(a, "id", "p", "s", "123456"))
	require.False(t, h.matches(a, "id", "p", "s", "123457"))
	require.False(t, h.matches(a[:31], "id", "p", "s", "123456"))
	// Fields are length-prefixed: moving a boundary changes the hash.
	require.False(t, h.matches(h.sum(nil, "ab", "c"), "a", "bc"))
}

package otpprocess

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
)

// ParseISODuration parses an ISO-8601 duration such as "P7D", "PT720H", "P2W" or
// "P1DT2H30M0.5S" into a time.Duration.
//
// Accepted: a "P", then any of nW, nD (a week is 7 days, a day 24 hours), then optionally
// a "T" and any of nH, nM, nS, each unit at most once and in that order. Numbers are
// decimal digits; only the seconds may have a fraction (with "." or ","), down to the
// nanosecond (at most 9 fractional digits). Designators are upper-case.
//
// Refused, with a KindInvalidInput error saying why: years and months (their length depends
// on the calendar, so they are ambiguous), signs (a duration is never negative), an empty
// duration ("P", "PT"), a "T" with no time component after it, and values past the range of
// time.Duration (about 292 years).
func ParseISODuration(s string) (time.Duration, error) {
	d, reason := parseISODuration(s)
	if reason != "" {
		return 0, verifykit.New(verifykit.KindInvalidInput, "invalid ISO-8601 duration: "+reason)
	}
	return d, nil
}

// isoUnit is one designator of a duration: its rank fixes the order units must come in.
type isoUnit struct {
	rank int
	size time.Duration
}

var (
	isoDateUnits = map[byte]isoUnit{'W': {0, 7 * 24 * time.Hour}, 'D': {1, 24 * time.Hour}}
	isoTimeUnits = map[byte]isoUnit{'H': {2, time.Hour}, 'M': {3, time.Minute}, 'S': {4, time.Second}}
)

// parseISODuration returns the duration s names, or why it does not name one.
func parseISODuration(s string) (time.Duration, string) {
	switch {
	case s == "":
		return 0, "is empty"
	case s[0] == '-':
		return 0, "must not be negative"
	case s[0] != 'P':
		return 0, `must start with "P"`
	}
	rest := s[1:]
	var total time.Duration
	last, inTime, emptyT := -1, false, false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, `has more than one "T"`
			}
			inTime, emptyT, rest = true, true, rest[1:]
			continue
		}
		intPart, frac, designator, tail, reason := nextComponent(rest)
		if reason != "" {
			return 0, reason
		}
		rest = tail
		units := isoDateUnits
		if inTime {
			units = isoTimeUnits
		}
		unit, ok := units[designator]
		switch {
		case !inTime && (designator == 'Y' || designator == 'M'):
			return 0, "years and months are ambiguous; use weeks or days"
		case !ok:
			return 0, "has an unknown designator " + strconv.QuoteRune(rune(designator))
		case unit.rank <= last:
			return 0, "has its units repeated or out of order"
		case frac != "" && designator != 'S':
			return 0, "may have a fraction in its seconds only"
		}
		last, emptyT = unit.rank, false
		v, ok := componentValue(intPart, frac, unit.size)
		if !ok || v > math.MaxInt64-total {
			return 0, "is too large"
		}
		total += v
	}
	switch {
	case last < 0:
		return 0, "has no components"
	case emptyT:
		return 0, `has no time component after "T"`
	}
	return total, ""
}

// nextComponent splits the component at the start of s, e.g. "12.5S..." into "12", "5",
// 'S' and the rest.
func nextComponent(s string) (intPart, frac string, designator byte, rest, reason string) {
	i := digits(s)
	intPart, s = s[:i], s[i:]
	if s != "" && (s[0] == '.' || s[0] == ',') {
		j := digits(s[1:])
		frac, s = s[1:1+j], s[1+j:]
		if frac == "" {
			return "", "", 0, "", "has a decimal sign without digits after it"
		}
		if len(frac) > 9 {
			return "", "", 0, "", "has more than 9 fractional digits"
		}
	}
	switch {
	case intPart == "":
		return "", "", 0, "", "has a designator without a number"
	case s == "":
		return "", "", 0, "", "has a number without a designator"
	}
	return intPart, frac, s[0], s[1:], ""
}

// digits counts the ASCII digits at the start of s.
func digits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// componentValue returns intPart.frac units, or false when it passes the range of
// time.Duration. frac has at most 9 digits; unit is a whole number of seconds when frac is
// set.
func componentValue(intPart, frac string, unit time.Duration) (time.Duration, bool) {
	n, err := strconv.ParseUint(intPart, 10, 63)
	if err != nil || n > uint64(math.MaxInt64/int64(unit)) {
		return 0, false
	}
	v := time.Duration(n) * unit
	if frac != "" {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64) // nanoseconds of a second
		part := time.Duration(f) * (unit / time.Second)
		if part > math.MaxInt64-v {
			return 0, false
		}
		v += part
	}
	return v, true
}

// FormatISODuration writes d as an ISO-8601 duration in days, hours, minutes and seconds,
// e.g. 30*24*time.Hour as "P30D" and 90*time.Minute as "PT1H30M"; zero is "PT0S". A
// negative d gets a leading "-", which ParseISODuration refuses. For every d >= 0,
// ParseISODuration(FormatISODuration(d)) returns d.
func FormatISODuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		b.WriteByte('-')
		u = -u
	}
	b.WriteByte('P')
	day, hour, minute, second := uint64(24*time.Hour), uint64(time.Hour), uint64(time.Minute), uint64(time.Second)
	if days := u / day; days > 0 {
		b.WriteString(strconv.FormatUint(days, 10) + "D")
	}
	u %= day
	if u == 0 {
		return b.String()
	}
	b.WriteByte('T')
	if h := u / hour; h > 0 {
		b.WriteString(strconv.FormatUint(h, 10) + "H")
	}
	if m := u % hour / minute; m > 0 {
		b.WriteString(strconv.FormatUint(m, 10) + "M")
	}
	if s, ns := u%minute/second, u%second; s > 0 || ns > 0 {
		b.WriteString(strconv.FormatUint(s, 10))
		if ns > 0 {
			b.WriteString(strings.TrimRight("."+strconv.FormatUint(ns+1e9, 10)[1:], "0"))
		}
		b.WriteByte('S')
	}
	return b.String()
}

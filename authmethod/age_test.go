package authmethod_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/authmethod"
)

func TestAge(t *testing.T) {
	at := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, kyiv) }
	cases := []struct {
		name  string
		birth time.Time
		now   time.Time
		want  int
	}{
		{"13 the day before 14th birthday", date(2012, 6, 16), at(2026, 6, 15), 13},
		{"14 on the birthday", date(2012, 6, 15), at(2026, 6, 15), 14},
		{"14 the day after", date(2012, 6, 14), at(2026, 6, 15), 14},
		{"17 the day before 18th birthday", date(2008, 6, 16), at(2026, 6, 15), 17},
		{"18 on the birthday", date(2008, 6, 15), at(2026, 6, 15), 18},
		{"18 the day after", date(2008, 6, 14), at(2026, 6, 15), 18},
		{"19 on the birthday", date(2007, 6, 15), at(2026, 6, 15), 19},
		{"18 the day before 19th", date(2007, 6, 16), at(2026, 6, 15), 18},
		{"a month earlier in the year", date(2008, 7, 15), at(2026, 6, 15), 17},
		{"a month later in the year", date(2008, 5, 15), at(2026, 6, 15), 18},
		{"born today", date(2026, 6, 15), at(2026, 6, 15), 0},
		{"29 Feb, common year, 28 Feb", date(2008, 2, 29), at(2026, 2, 28), 17},
		{"29 Feb, common year, 1 Mar", date(2008, 2, 29), at(2026, 3, 1), 18},
		{"29 Feb, leap year, 28 Feb", date(2008, 2, 29), at(2028, 2, 28), 19},
		{"29 Feb, leap year, 29 Feb", date(2008, 2, 29), at(2028, 2, 29), 20},
		{"29 Feb, leap year, 1 Mar", date(2008, 2, 29), at(2028, 3, 1), 20},
		{"29 Feb, 14th birthday in a common year", date(2012, 2, 29), at(2026, 2, 28), 13},
		{"29 Feb, 14th birthday on 1 Mar", date(2012, 2, 29), at(2026, 3, 1), 14},
		{"29 Feb, 2100 is not a leap year", date(2096, 2, 29), at(2100, 2, 28), 3},
		{"29 Feb, 2100 on 1 Mar", date(2096, 2, 29), at(2100, 3, 1), 4},
		{"28 Feb birth in a leap year", date(2008, 2, 28), at(2028, 2, 28), 20},
		{"1 Mar birth on 29 Feb", date(2008, 3, 1), at(2028, 2, 29), 19},
		// 14 June 21:30 UTC is already 15 June 00:30 in Kyiv (UTC+3 in summer).
		{"birthday reached in Kyiv, not yet in UTC", date(2008, 6, 15), time.Date(2026, 6, 14, 21, 30, 0, 0, time.UTC), 18},
		{"the evening before in Kyiv", date(2008, 6, 15), time.Date(2026, 6, 14, 20, 30, 0, 0, time.UTC), 17},
		{"birth date given in another zone keeps its date", time.Date(2008, 6, 15, 0, 0, 0, 0, kyiv), at(2026, 6, 15), 18},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := authmethod.Age(c.birth, c.now, kyiv)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestAgeInvalid(t *testing.T) {
	for name, birth := range map[string]time.Time{
		"tomorrow":  date(2026, 6, 16),
		"next year": date(2027, 1, 1),
		"zero":      {},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := authmethod.Age(birth, today, kyiv)
			requireError(t, err, verifykit.KindInvalidInput, "Validation failed.")
			var e *verifykit.Error
			require.ErrorAs(t, err, &e)
			require.Len(t, e.Invalid, 1)
			require.Equal(t, "$.birth_date", e.Invalid[0].Entry)
		})
	}
	// Tomorrow in Kyiv is still today in UTC: the configured zone decides.
	lateEvening := time.Date(2026, 6, 15, 22, 0, 0, 0, time.UTC) // 16 June 01:00 in Kyiv
	_, err := authmethod.Age(date(2026, 6, 16), lateEvening, time.UTC)
	requireError(t, err, verifykit.KindInvalidInput, "Validation failed.")
	got, err := authmethod.Age(date(2026, 6, 16), lateEvening, kyiv)
	require.NoError(t, err)
	require.Zero(t, got)
}

// TestAgeAgainstCalendar checks every day of a decade against a count of the birthdays
// passed, with 29 February falling on 1 March in common years (time.Date normalises
// 29 February of a common year to 1 March).
func TestAgeAgainstCalendar(t *testing.T) {
	for _, birth := range []time.Time{date(2008, 2, 29), date(2012, 2, 29), date(2010, 12, 31), date(2011, 1, 1), date(2009, 3, 1), date(2009, 2, 28)} {
		for day := date(2020, 1, 1); day.Before(date(2031, 1, 1)); day = day.AddDate(0, 0, 1) {
			want := 0
			for n := 1; ; n++ {
				bd := time.Date(birth.Year()+n, birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
				if bd.After(day) {
					break
				}
				want = n
			}
			got, err := authmethod.Age(birth, day.Add(12*time.Hour), time.UTC)
			require.NoError(t, err)
			require.Equal(t, want, got, "born %s, on %s", birth.Format(time.DateOnly), day.Format(time.DateOnly))
		}
	}
}

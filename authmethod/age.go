package authmethod

import (
	"fmt"
	"time"

	"github.com/verifykit/verifykit"
)

// Age returns a person's age in whole years on today's date in loc (UTC when nil), where
// today is now's date in loc and birthDate is a calendar date (its year, month and day in
// its own location; the time of day is ignored).
//
// The age goes up on the birthday. Someone born on 29 February gains a year on 1 March in
// years that are not leap years. A birth date after today, or a zero birth date, is a
// KindInvalidInput error naming "$.birth_date"; someone born today is 0.
func Age(birthDate, now time.Time, loc *time.Location) (int, error) {
	if loc == nil {
		loc = time.UTC
	}
	if birthDate.IsZero() {
		return 0, ageError("required", "birth date is required")
	}
	by, bm, bd := birthDate.Date()
	ty, tm, td := now.In(loc).Date()
	if by > ty || (by == ty && (bm > tm || (bm == tm && bd > td))) {
		return 0, ageError("past", fmt.Sprintf("birth date %04d-%02d-%02d is after today (%04d-%02d-%02d in %s)", by, bm, bd, ty, tm, td, loc))
	}
	age := ty - by
	// The birthday of this year; 29 February falls on 1 March in a common year.
	if bm == time.February && bd == 29 && !isLeap(ty) {
		bm, bd = time.March, 1
	}
	if tm < bm || (tm == bm && td < bd) {
		age--
	}
	return age, nil
}

func ageError(rule, desc string) error {
	var v verifykit.Validation
	v.Add("$.birth_date", rule, desc)
	return v.Err()
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

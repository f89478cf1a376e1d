// Package authmethod holds the rules for deactivating a person's authentication method, as
// the eHealth patient portal ("PIS") applies them: who may ask (the person, when old and
// capable enough and without a confidant; or a verified confidant of the person), which
// methods may go (THIRD_PERSON ones, never the last active one), and what happens (the
// method ends; the primary moves to the most recently added active method).
//
// Build a [Service] once with [NewService] from the stores of package ports and a
// [Config] (start from [DefaultConfig]); then call [Service.Deactivate]. [Service.Explain]
// answers the same question without changing anything, with the outcome of every rule.
//
// Every error is a *verifykit.Error with the exact message of the eHealth API. When a rule
// of the flow denies, the error's cause is a *[Denial] naming the rule and saying why in
// words a support team can act on:
//
//	var d *authmethod.Denial
//	if errors.As(err, &d) {
//		log.Printf("denied by %s: %s", d.Rule, d.Reason) // "age 15 is under 18 and no legal-capacity document"
//	}
//
// Ages are whole years on today's date in the configured time zone (see [Age]). The time
// zone is loaded with time.LoadLocation: a host that runs without the system's zone
// database should import time/tzdata.
package authmethod

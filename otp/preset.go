package otp

import (
	"fmt"
	"slices"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// Preset is a set of requirements a Config can be checked against with Config.Check: a
// compliance baseline such as NIST80063B4 or ASVSLevel2.
type Preset struct {
	// Name names the baseline, e.g. "NIST SP 800-63B-4".
	Name  string
	rules []presetRule
}

// presetRule is one requirement: the setting it judges, the requirement's reference, what
// it asks for, and whether a Config meets it.
type presetRule struct {
	field, ref, want string
	ok               func(Config) bool
}

// Requirement is one requirement of a Preset, for documentation and reports.
type Requirement struct {
	// Field is the Config setting the requirement judges, e.g. "Digits".
	Field string
	// Ref is the requirement in its standard, e.g. "ASVS 5.0 6.5.4".
	Ref string
	// Want says what the setting must be.
	Want string
}

// Requirements lists the requirements of p, in the order Check reports them.
func (p Preset) Requirements() []Requirement {
	out := make([]Requirement, len(p.rules))
	for i, r := range p.rules {
		out[i] = Requirement{Field: r.field, Ref: r.ref, Want: r.want}
	}
	return out
}

// Common requirements of the presets.
var (
	atLeastSixDigits = func(c Config) bool { return c.Digits >= 6 }
	tenMinutesAtMost = func(c Config) bool { return c.TTL > 0 && c.TTL <= 10*time.Minute }
	failureBudget    = func(c Config) bool { return c.FailureLimit.Max >= 1 && c.FailureLimit.Max <= 100 }
	recipientBudget  = func(c Config) bool {
		return c.RecipientFailureLimit.Max >= 1 && c.RecipientFailureLimit.Max <= 100
	}
	noVoIP      = func(c Config) bool { return slices.Contains(c.Phones.RefusedTypes, ports.PhoneVoIP) }
	noTestCodes = func(c Config) bool { return len(c.TestRecipients) == 0 }
	sendLimited = func(c Config) bool { return len(c.SendLimits) > 0 }
	fewAttempts = func(c Config) bool { return c.MaxAttempts >= 1 && c.MaxAttempts <= 10 }
	fewSubjects = func(c Config) bool { return c.MaxSubjectsPerRecipient >= 1 }
)

// NIST80063B4 is the out-of-band rules of NIST SP 800-63B-4 (§3.1.3 out-of-band devices,
// §3.1.3.3 the PSTN, §3.2.2 rate limiting) as far as settings decide them: a secret of at
// least 6 digits (20 bits), valid at most 10 minutes, no more than 100 consecutive failed
// attempts for the subscriber (and for the phone), no VoIP numbers, no fixed codes.
func NIST80063B4() Preset {
	return Preset{Name: "NIST SP 800-63B-4", rules: []presetRule{
		{"Digits", "SP 800-63B-4 §3.1.3", "at least 6 digits (20 bits of entropy)", atLeastSixDigits},
		{"TTL", "SP 800-63B-4 §3.1.3", "at most 10 minutes", tenMinutesAtMost},
		{"FailureLimit", "SP 800-63B-4 §3.2.2", "at most 100 failed attempts", failureBudget},
		{"RecipientFailureLimit", "SP 800-63B-4 §3.2.2", "set, at most 100 failed attempts", recipientBudget},
		{"Phones.RefusedTypes", "SP 800-63B-4 §3.1.3.3", "must refuse VOIP numbers", noVoIP},
		{"TestRecipients", "SP 800-63B-4 §3.1.3", "none: a fixed code is no random secret", noTestCodes},
	}}
}

// ASVSLevel2 is the one-time-code requirements of OWASP ASVS 5.0 at level 2 as far as
// settings decide them: 6.5.4 (at least 20 bits: 6 digits), 6.5.5 (out-of-band codes live
// at most 10 minutes), 6.6.1 (phone numbers checked, no VoIP), 6.6.3 and 6.3.1 (brute
// force limited: few attempts per code, a failure budget of at most 100 per subject and
// per recipient, send limits, a cap on the subjects with open codes for one recipient),
// and no fixed codes (6.5.3: codes from a CSPRNG). 6.5.1
// (single use), 6.5.3 (crypto/rand) and 6.6.2 (bound to the purpose and subject) hold by
// construction.
func ASVSLevel2() Preset {
	return Preset{Name: "OWASP ASVS 5.0 level 2", rules: []presetRule{
		{"Digits", "ASVS 5.0 6.5.4", "at least 6 digits (20 bits of entropy)", atLeastSixDigits},
		{"TTL", "ASVS 5.0 6.5.5", "at most 10 minutes", tenMinutesAtMost},
		{"MaxAttempts", "ASVS 5.0 6.6.3", "at most 10 wrong attempts per code", fewAttempts},
		{"FailureLimit", "ASVS 5.0 6.3.1", "at most 100 failed attempts", failureBudget},
		{"RecipientFailureLimit", "ASVS 5.0 6.6.3", "set, at most 100 failed attempts", recipientBudget},
		{"SendLimits", "ASVS 5.0 6.6.3", "at least one send limit", sendLimited},
		{"MaxSubjectsPerRecipient", "ASVS 5.0 6.6.3", "set: a cap on the subjects with open codes for one recipient", fewSubjects},
		{"Phones.RefusedTypes", "ASVS 5.0 6.6.1", "must refuse VOIP numbers", noVoIP},
		{"TestRecipients", "ASVS 5.0 6.5.3", "none: a fixed code is not drawn from a CSPRNG", noTestCodes},
	}}
}

// Check lists every setting of c that falls short of p, as a KindInvalidInput error with
// one invalid entry per setting (EntryConfig, the field's name, rule "preset", and the
// requirement with what it asks for), or nil when c meets every requirement. It checks
// only what p asks; Validate checks that c can run at all.
func (c Config) Check(p Preset) error {
	var v verifykit.Validation
	for _, r := range p.rules {
		if !r.ok(c) {
			v.AddEntry(verifykit.InvalidEntry{Entry: r.field, EntryType: verifykit.EntryConfig, Rule: "preset",
				Description: fmt.Sprintf("%s: %s", r.ref, r.want)})
		}
	}
	if err := v.Err(); err != nil {
		e := err.(*verifykit.Error)
		e.Message = "The one-time code configuration falls short of " + p.Name + "."
		return e
	}
	return nil
}

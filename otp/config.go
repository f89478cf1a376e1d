package otp

import (
	"fmt"
	"strconv"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// Limits of Config.Digits.
const (
	MinDigits = 4
	MaxDigits = 10
)

// MinSecretLen is the shortest HMAC secret accepted, in bytes.
const MinSecretLen = 32

// Config sets the rules of the engine. Start from DefaultConfig and set Secrets: every
// field is checked by NewService, and a zero value is an error, not a default.
type Config struct {
	// Digits is the length of a code, MinDigits to MaxDigits. Default 6.
	Digits int
	// TTL is how long a code is valid. Default 10 minutes.
	TTL time.Duration
	// MaxAttempts is the number of wrong attempts that blocks a code. Default 5.
	MaxAttempts int
	// SendLimits limit how often codes are sent to one recipient. Default: 5 per 10
	// minutes, and 30 seconds apart.
	SendLimits []ports.RateLimit
	// FailureLimit limits failed verifications per purpose and subject, across codes, so
	// resending cannot be used to brute-force. Default: 100 per 24 hours.
	FailureLimit ports.RateLimit
	// Secrets are the HMAC keys codes are hashed with, each at least MinSecretLen bytes.
	// New codes use the first; verification accepts codes hashed with any of them, so a
	// secret can be rotated by putting the new one first and removing the old one once its
	// codes have expired. Required.
	Secrets [][]byte
	// Delivery sets how sending is retried.
	Delivery DeliveryConfig
	// Message renders the text sent to the recipient. Default: "Your verification code is
	// 123456. It is valid for 10 minutes."
	Message func(code string, ttl time.Duration) string
	// Templates, when set, render messages per locale (IssueRequest.Locale) in place of
	// Message, from text/template sources checked by NewService (see Templates): a zero
	// Templates{} ships Ukrainian, English and Spanish. An IssueRequest's own Message still
	// wins. Default: nil, Message renders.
	Templates *Templates
	// WebOTPDomain, when set, ends every message with the WebOTP line "@<host> #<code>", so
	// that a browser on that host can fill the code in (WICG WebOTP). A host name, such as
	// "example.com". Default: none.
	WebOTPDomain string
	// AppHash, when set, ends every message with this Android SMS Retriever app hash (11
	// characters of [A-Za-z0-9+/]), so that the app can read the code. With WebOTPDomain it
	// ends the WebOTP line. Default: none.
	AppHash string

	// Phones sets which phone numbers codes go to: regions and number types (see
	// PhoneRules). Default: every region; premium-rate, shared-cost, VoIP and fixed-line
	// numbers refused (DefaultRefusedTypes).
	Phones PhoneRules
	// Pumping guards against SMS pumping: send budgets per calling code and a conversion
	// watch per prefix (see PumpingGuard). Default: DefaultPumpingGuard, both on; the zero
	// PumpingGuard{} turns both off.
	Pumping PumpingGuard
	// RecipientFailureLimit limits wrong codes entered for codes sent to one recipient,
	// whatever their subjects: once used up, no new code goes to that recipient until
	// failures leave the window. Default: 100 per 24 hours (NIST SP 800-63B-4); zero
	// turns it off.
	RecipientFailureLimit ports.RateLimit
	// MaxSubjectsPerRecipient caps the distinct subjects (per purpose) that may get a code
	// to one recipient within the code's lifetime (at most 24 hours): how many challenges
	// may be open at once for one phone or address, so many accounts cannot be aimed at it.
	// Default: DefaultMaxSubjectsPerRecipient (10), room for a flow whose records share a
	// phone, such as a parent confirming the requests of several children; 3 suits a
	// login. 0 turns it off.
	MaxSubjectsPerRecipient int
	// TestRecipients are recipients in test mode (fixed codes, nothing sent) until their
	// dates. Default: none. NewService logs a warning for each one still active.
	TestRecipients []TestRecipient
}

// DeliveryConfig sets how delivery retries transient failures: exponential backoff from
// BaseDelay, each wait capped at MaxDelay, with ±JitterPercent jitter, at most MaxRetries
// retries after the first try.
type DeliveryConfig struct {
	MaxRetries    uint64
	BaseDelay     time.Duration
	MaxDelay      time.Duration
	JitterPercent uint64
}

// DefaultConfig returns the defaults of RULES.md §E, without secrets.
func DefaultConfig() Config {
	return Config{
		Digits:      6,
		TTL:         10 * time.Minute,
		MaxAttempts: 5,
		SendLimits: []ports.RateLimit{
			{Max: 5, Per: 10 * time.Minute},
			{Max: 1, Per: 30 * time.Second},
		},
		FailureLimit: ports.RateLimit{Max: 100, Per: 24 * time.Hour},
		Delivery: DeliveryConfig{
			MaxRetries:    3,
			BaseDelay:     200 * time.Millisecond,
			MaxDelay:      2 * time.Second,
			JitterPercent: 20,
		},
		Message:                 DefaultMessage,
		Phones:                  PhoneRules{RefusedTypes: DefaultRefusedTypes()},
		Pumping:                 DefaultPumpingGuard(),
		RecipientFailureLimit:   ports.RateLimit{Max: 100, Per: 24 * time.Hour},
		MaxSubjectsPerRecipient: DefaultMaxSubjectsPerRecipient,
	}
}

// DefaultMessage is the default SMS text: "Your verification code is 123456. It is valid
// for 10 minutes." (hours or days for longer lifetimes, rounded down).
func DefaultMessage(code string, ttl time.Duration) string {
	n, unit := int(ttl/time.Minute), "minute"
	switch {
	case ttl >= 48*time.Hour:
		n, unit = int(ttl/(24*time.Hour)), "day"
	case ttl >= 2*time.Hour:
		n, unit = int(ttl/time.Hour), "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return "Your verification code is " + code + ". It is valid for " + strconv.Itoa(n) + " " + unit + "."
}

// Validate reports every problem of the config at once as a KindInvalidInput error.
func (c Config) Validate() error {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if c.Digits < MinDigits || c.Digits > MaxDigits {
		bad("Digits", "range", fmt.Sprintf("must be from %d to %d, got %d", MinDigits, MaxDigits, c.Digits))
	}
	if c.TTL <= 0 {
		bad("TTL", "positive", "must be positive")
	}
	if c.MaxAttempts < 1 {
		bad("MaxAttempts", "positive", "must be at least 1")
	}
	for i, l := range c.SendLimits {
		if l.Max < 1 || l.Per <= 0 {
			bad(fmt.Sprintf("SendLimits[%d]", i), "positive", "needs a positive Max and Per")
		}
	}
	if c.FailureLimit.Max < 1 || c.FailureLimit.Per <= 0 {
		bad("FailureLimit", "positive", "needs a positive Max and Per")
	}
	if len(c.Secrets) == 0 {
		bad("Secrets", "required", "at least one HMAC secret is required")
	}
	for i, s := range c.Secrets {
		if len(s) < MinSecretLen {
			bad(fmt.Sprintf("Secrets[%d]", i), "length", fmt.Sprintf("must be at least %d bytes, got %d", MinSecretLen, len(s)))
		}
	}
	if c.Delivery.BaseDelay <= 0 {
		bad("Delivery.BaseDelay", "positive", "must be positive")
	}
	if c.Delivery.MaxDelay < c.Delivery.BaseDelay {
		bad("Delivery.MaxDelay", "range", "must be at least BaseDelay")
	}
	if c.Delivery.JitterPercent > 100 {
		bad("Delivery.JitterPercent", "range", "must be at most 100")
	}
	if c.Message == nil && c.Templates == nil {
		bad("Message", "required", "a message renderer (or Templates) is required")
	}
	newMessages(c, bad)
	c.validateAbuse(bad)
	if err := v.Err(); err != nil {
		e := err.(*verifykit.Error)
		e.Message = "Invalid one-time code configuration."
		return e
	}
	return nil
}

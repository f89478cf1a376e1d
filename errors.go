package verifykit

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Kind classifies an [Error]. The domain packages only ever speak in kinds; transports map
// kinds to their own codes (adapters/httpapi and adapters/console to HTTP status codes).
//
// A Kind is itself an error so that it can be matched with errors.Is:
//
//	if errors.Is(err, verifykit.ErrNotFound) { ... }
type Kind uint8

// The kinds of failure every package of the SDK reports.
const (
	// KindNone, the zero Kind, means no error: KindOf(nil). An *Error whose Kind was left
	// zero is treated as KindInternal.
	KindNone Kind = iota
	// KindInternal is a bug or an unexpected failure of a dependency. It is the kind of any
	// error that is not an *Error.
	KindInternal
	// KindInvalidInput means the request was understood but its values break a rule.
	KindInvalidInput
	// KindBadRequest means the request could not be understood at all (it is not even well
	// formed), as opposed to KindInvalidInput.
	KindBadRequest
	// KindUnauthorized means the caller could not be identified.
	KindUnauthorized
	// KindForbidden means the caller is known but not allowed to do this.
	KindForbidden
	// KindNotFound means the thing named does not exist, or is not visible to the caller.
	KindNotFound
	// KindConflict means the thing is not in a state that allows the action.
	KindConflict
	// KindRateLimited means a limit was reached; Error.RetryAfter says when to try again.
	KindRateLimited
	// KindUnavailable means a dependency (storage, SMS gateway) failed; trying later may
	// work.
	KindUnavailable
)

// Sentinel errors, one per kind, for errors.Is. Each matches every *Error of its kind.
const (
	ErrInternal     = KindInternal
	ErrInvalidInput = KindInvalidInput
	ErrBadRequest   = KindBadRequest
	ErrUnauthorized = KindUnauthorized
	ErrForbidden    = KindForbidden
	ErrNotFound     = KindNotFound
	ErrConflict     = KindConflict
	ErrRateLimited  = KindRateLimited
	ErrUnavailable  = KindUnavailable
)

var kindNames = [...]string{
	KindNone:         "none",
	KindInternal:     "internal",
	KindInvalidInput: "invalid_input",
	KindBadRequest:   "bad_request",
	KindUnauthorized: "unauthorized",
	KindForbidden:    "forbidden",
	KindNotFound:     "not_found",
	KindConflict:     "conflict",
	KindRateLimited:  "rate_limited",
	KindUnavailable:  "unavailable",
}

// String returns the kind's stable snake_case name, e.g. "not_found".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error makes a Kind usable as a sentinel error.
func (k Kind) Error() string { return k.String() }

// Entry types used in InvalidEntry.EntryType.
const (
	// EntryJSONProperty names a property of a JSON body by its JSONPath, e.g. "$.fields[1]".
	EntryJSONProperty = "json_data_property"
	// EntryQueryParameter names a URL query parameter.
	EntryQueryParameter = "query_parameter"
	// EntryPathParameter names a URL path parameter.
	EntryPathParameter = "path_parameter"
	// EntryConfig names a configuration field.
	EntryConfig = "config"
)

// InvalidEntry names one offending input and the rule it broke.
type InvalidEntry struct {
	// Entry is where the bad value is, e.g. "$.fields[1]".
	Entry string
	// EntryType says what kind of place Entry names, e.g. EntryJSONProperty.
	EntryType string
	// Rule is a short machine-readable rule name, e.g. "required", "inclusion", "format".
	Rule string
	// Description explains the rule to a person.
	Description string
}

// Error is the one error type every package of the SDK returns to its callers.
type Error struct {
	// Kind classifies the failure; left zero (KindNone), it counts as KindInternal.
	Kind Kind
	// Message is meant for a person: it says what went wrong without internal detail.
	Message string
	// Invalid lists the offending inputs, when the failure is about input.
	Invalid []InvalidEntry
	// RetryAfter, when positive, is how long to wait before trying again.
	RetryAfter time.Duration
	// Err is the underlying cause, if any. It is reachable through errors.Is/As but is
	// not part of Message.
	Err error
}

// Error implements the error interface: the message, followed by the invalid entries.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if b.Len() == 0 {
		b.WriteString(e.kind().String())
	}
	for i, in := range e.Invalid {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(in.Entry)
		if in.Description != "" {
			b.WriteString(" ")
			b.WriteString(in.Description)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's kind, so errors.Is(err, ErrNotFound)
// matches any *Error of kind KindNotFound.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.kind()
}

// kind is e's Kind, KindInternal when it was left zero.
func (e *Error) kind() Kind {
	if e.Kind == KindNone {
		return KindInternal
	}
	return e.Kind
}

// New returns an *Error of the given kind and message.
func New(kind Kind, message string) *Error {
	return &Error{Kind: kind, Message: message}
}

// Wrap returns an *Error of the given kind and message whose cause is err.
func Wrap(kind Kind, message string, err error) *Error {
	return &Error{Kind: kind, Message: message, Err: err}
}

// Invalid returns a KindInvalidInput error listing the offending entries.
func Invalid(message string, entries ...InvalidEntry) *Error {
	return &Error{Kind: KindInvalidInput, Message: message, Invalid: entries}
}

// KindOf returns the kind of err: KindNone for nil, the Kind of the first *Error in its
// chain (KindInternal when that was left zero), and KindInternal for any other error.
func KindOf(err error) Kind {
	if err == nil {
		return KindNone
	}
	var e *Error
	if errors.As(err, &e) {
		return e.kind()
	}
	return KindInternal
}

// RenameEntry returns err with its invalid entries named from renamed to, for a use case
// whose input names a value differently from the package that judged it (the otp engine's
// "$.code" is an approval's "$.verification_code"); err itself is not changed. Any other
// error comes back as it is.
func RenameEntry(err error, from, to string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	renamed := false
	out := *e
	out.Invalid = append([]InvalidEntry(nil), e.Invalid...)
	for i := range out.Invalid {
		if out.Invalid[i].Entry == from {
			out.Invalid[i].Entry, renamed = to, true
		}
	}
	if !renamed {
		return err
	}
	return &out
}

// Validation collects invalid entries while input is checked, so that every problem is
// reported at once rather than the first only. The zero value is ready to use.
type Validation struct {
	entries []InvalidEntry
}

// Add records an offending entry of type EntryJSONProperty.
func (v *Validation) Add(entry, rule, description string) {
	v.AddEntry(InvalidEntry{Entry: entry, EntryType: EntryJSONProperty, Rule: rule, Description: description})
}

// AddEntry records an offending entry.
func (v *Validation) AddEntry(e InvalidEntry) { v.entries = append(v.entries, e) }

// Required records entry as missing when value is empty.
func (v *Validation) Required(entry, value string) {
	if strings.TrimSpace(value) == "" {
		v.Add(entry, "required", "is required")
	}
}

// Entries returns the entries recorded so far.
func (v *Validation) Entries() []InvalidEntry { return v.entries }

// Err returns nil when nothing was recorded, else a KindInvalidInput error with every
// entry and the message "Validation failed.".
func (v *Validation) Err() error {
	if len(v.entries) == 0 {
		return nil
	}
	return Invalid("Validation failed.", v.entries...)
}

// Unavailable returns err unchanged when it already is, or wraps, an *Error; any other
// error (a store or network failure, a cancelled context) becomes a KindUnavailable error
// with message. Domain packages use it on every error a port returns.
func Unavailable(message string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return Wrap(KindUnavailable, message, err)
}

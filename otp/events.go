package otp

import (
	"errors"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// The types of the code events (ports.LifecycleEvent) the engine and the flows emit.
const (
	EventCodeIssued        = "code.issued"
	EventCodeVerified      = "code.verified"
	EventCodeFailed        = "code.failed"
	EventCodeBlocked       = "code.blocked"
	EventCodeExpired       = "code.expired"
	EventCodeUndeliverable = "code.undeliverable"
)

// aggregateCode is the aggregate type of the events of standalone codes: their aggregate
// id is the code's id (the subject may be personal data, so it is never in an event).
const aggregateCode = "otp_code"

// CodeEvent returns the event of typ about the code codeID of purpose, for a flow whose
// code lives in its own record: the aggregate is the record's (aggregateType,
// aggregateID), and Data names the code and its purpose (never the code itself).
func CodeEvent(typ, aggregateType, aggregateID, purpose, codeID string, at time.Time) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(typ, aggregateType, aggregateID, at)
	ev.Data = map[string]string{"code_id": codeID, "purpose": purpose}
	return ev
}

// IssuedEvent is the code.issued event of the draft d, about the record aggregateType /
// aggregateID, with the recipient masked.
func IssuedEvent(d *Draft, aggregateType, aggregateID string) ports.LifecycleEvent {
	ev := CodeEvent(EventCodeIssued, aggregateType, aggregateID, d.rec.Purpose, d.rec.ID, d.rec.CreatedAt)
	if d.to != "" {
		ev.Data["recipient"] = ports.MaskRecipient(d.to)
	}
	return ev
}

// CheckEvent is the event of one attempt (Check or CountFailure) that answered res and
// err, about the record aggregateType / aggregateID: code.verified, code.blocked (this
// attempt blocked it), code.expired (found expired), or code.failed, refused, with the
// cause as Reason.
func CheckEvent(res VerifyResult, err error, aggregateType, aggregateID, purpose string, at time.Time) ports.LifecycleEvent {
	typ, reason := EventCodeFailed, FailureReason(err) // otp/observe.go: the reasons of the metrics
	switch {
	case err == nil:
		typ = EventCodeVerified
	case errors.Is(err, ErrAttemptsExceeded) && res.Counted:
		typ = EventCodeBlocked
	case errors.Is(err, ErrExpired):
		typ = EventCodeExpired
	}
	ev := CodeEvent(typ, aggregateType, aggregateID, purpose, res.CodeID, at)
	if err != nil {
		if reason == "" {
			reason = "invalid_code"
		}
		ev.Outcome, ev.Reason = ports.OutcomeRefused, reason
	}
	return ev
}

// standalone events: the engine's own Issue / Verify / RecordFailure / Invalidate.

func issuedStandalone(d *Draft) ports.LifecycleEvent {
	return IssuedEvent(d, aggregateCode, d.rec.ID)
}

func checkedStandalone(res VerifyResult, err error, purpose string, at time.Time) ports.LifecycleEvent {
	return CheckEvent(res, err, aggregateCode, res.CodeID, purpose, at)
}

func undeliverableStandalone(purpose, codeID string, at time.Time) ports.LifecycleEvent {
	return CodeEvent(EventCodeUndeliverable, aggregateCode, codeID, purpose, codeID, at)
}

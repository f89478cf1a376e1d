package otpprocess

import (
	"context"
	"strconv"
	"time"

	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// The types of the events (ports.LifecycleEvent) of OTP identification processes. Each
// change goes in the process's Outbox, written with it, with the events of its codes
// (otp.EventCodeIssued, ...). A deletion goes in the Outbox of the Update that deletes the
// record (ports.ProcessRecord.Deleted), so it is written with the delete; a refused deletion
// changes nothing and goes to Deps.Events. Service.ExpireDue's store writes
// the expired event of each process it expires (ports.ProcessExpiredEvent).
const (
	EventCreated          = "otp_identification.created"
	EventCodeResent       = "otp_identification.code_resent"
	EventValidated        = "otp_identification.validated"
	EventValidationFailed = "otp_identification.validation_failed"
	EventCancelled        = "otp_identification.cancelled"
	EventExpired          = ports.EventProcessExpired
	EventDeleted          = "otp_identification.deleted"
)

// AggregateType is the ports.LifecycleEvent.AggregateType of processes.
const AggregateType = ports.AggregateProcess

// eventLogOr returns l, or the log that drops every event when l is nil.
func eventLogOr(l ports.EventLog) ports.EventLog {
	if l == nil {
		return ports.DropEvents{}
	}
	return l
}

// processEvent is the event typ about r, by actor at at.
func processEvent(r *ports.ProcessRecord, typ, actor string, at time.Time) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(typ, AggregateType, r.ID, at)
	ev.OrgID, ev.Actor = r.OrgID, actor
	ev.Data = map[string]string{"state": string(r.State), "channel": string(r.Channel.Type)}
	return ev
}

// keepsEvents reports whether the store keeps the events of its writes
// (ports.KeepsEvents): the emit methods build none for a store that drops them.
func (s *Service) keepsEvents() bool { return ports.KeepsEvents(s.store) }

// emitProcess appends the event typ about r to r's Outbox.
func (s *Service) emitProcess(r *ports.ProcessRecord, typ, actor string, at time.Time) {
	if s.keepsEvents() {
		r.Outbox = append(r.Outbox, processEvent(r, typ, actor, at))
	}
}

// emitProcessCode appends the code event ev (made by package otp) to r's Outbox.
func emitProcessCode(r *ports.ProcessRecord, ev ports.LifecycleEvent, actor string) {
	ev.OrgID, ev.Actor = r.OrgID, actor
	r.Outbox = append(r.Outbox, ev)
}

// emitIssued appends the code.issued event of d and then the event typ (created or
// code_resent) to r's Outbox.
func (s *Service) emitIssued(r *ports.ProcessRecord, d *otp.Draft, typ, actor string, at time.Time) {
	if s.keepsEvents() {
		emitProcessCode(r, otp.IssuedEvent(d, AggregateType, r.ID), actor)
		s.emitProcess(r, typ, actor, at)
	}
}

// emitChecked appends the events of a validation attempt that answered res and err: the
// code's event, then validated or validation_failed (with the cause).
func (s *Service) emitChecked(r *ports.ProcessRecord, res otp.VerifyResult, err error, secondFactor bool, actor string, at time.Time) {
	if !s.keepsEvents() {
		return
	}
	if res.CodeID == "" {
		res.CodeID = r.Verification.Code.ID
	}
	emitProcessCode(r, otp.CheckEvent(res, err, AggregateType, r.ID, s.cfg.CodePurpose, at), actor)
	if err == nil {
		s.emitProcess(r, EventValidated, actor, at)
		return
	}
	ev := processEvent(r, EventValidationFailed, actor, at)
	ev.Outcome, ev.Reason = ports.OutcomeRefused, otp.FailureReason(err)
	if secondFactor {
		ev.Reason = "second_factor_mismatch"
	}
	r.Outbox = append(r.Outbox, ev)
}

// emitUndeliverable appends the code.undeliverable event of the code codeID.
func (s *Service) emitUndeliverable(r *ports.ProcessRecord, codeID string, at time.Time) {
	if !s.keepsEvents() {
		return
	}
	emitProcessCode(r, otp.CodeEvent(otp.EventCodeUndeliverable, AggregateType, r.ID, s.cfg.CodePurpose, codeID, at), "")
}

// deletedEvent is the event of the deletion of r, which was in state (forced or not), by
// actor at at: it goes in the Outbox of the Update that deletes r.
func deletedEvent(r *ports.ProcessRecord, state State, forced bool, actor string, at time.Time) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(EventDeleted, AggregateType, r.ID, at)
	ev.OrgID, ev.Actor = r.OrgID, actor
	ev.Data = map[string]string{"state": string(state), "forced": strconv.FormatBool(forced)}
	return ev
}

// deleteRefused appends the refusal (for reason) to delete the process id, in state, to the
// event log: nothing changed, so there is no write to carry it. A failure to append is
// logged.
func (s *Service) deleteRefused(ctx context.Context, orgID, id string, state State, reason, actor string, at time.Time) {
	ev := ports.NewLifecycleEvent(EventDeleted, AggregateType, id, at)
	ev.OrgID, ev.Actor, ev.Outcome, ev.Reason = orgID, actor, ports.OutcomeRefused, reason
	ev.Data = map[string]string{"state": string(state)}
	if err := s.events.Append(context.WithoutCancel(ctx), ev); err != nil {
		s.log.WarnContext(ctx, "otp identification deletion refusal event not stored", "error", err.Error())
	}
}

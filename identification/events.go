package identification

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// The types of the events (ports.LifecycleEvent) of OTP identification processes. Each
// change goes in the process's Outbox, written with it, with the events of its codes
// (otp.EventCodeIssued, ...). A deletion goes in the Outbox of the Update that deletes the
// record (ports.ProcessRecord.Deleted), so it is written with the delete; a refused deletion
// changes nothing and goes to ProcessDeps.Events. ProcessService.ExpireDue's store writes
// the expired event of each process it expires (ports.ProcessExpiredEvent).
const (
	EventProcessCreated          = "otp_identification.created"
	EventProcessCodeResent       = "otp_identification.code_resent"
	EventProcessValidated        = "otp_identification.validated"
	EventProcessValidationFailed = "otp_identification.validation_failed"
	EventProcessCancelled        = "otp_identification.cancelled"
	EventProcessExpired          = ports.EventProcessExpired
	EventProcessDeleted          = "otp_identification.deleted"
)

// The types of the events of profiles, one for each audit action of the profile flow: they
// are the profile audit trail (ports.ProfileAuditLog reads them back).
const (
	EventIdentificationReset         = ports.EventProfileIdentificationReset
	EventIdentificationSubmitted     = ports.EventProfileIdentificationSubmitted
	EventIdentificationStatusChanged = ports.EventProfileIdentificationStatusChanged
	EventResetRequestCreated         = ports.EventProfileResetRequestCreated
	EventResetRequestApproved        = ports.EventProfileResetRequestApproved
	EventResetRequestDeclined        = ports.EventProfileResetRequestDeclined
)

// The ports.LifecycleEvent.AggregateType of processes and profiles.
const (
	AggregateProcess = ports.AggregateProcess
	AggregateProfile = ports.AggregateProfile
)

// eventLogOr returns l, or the log that drops every event when l is nil.
func eventLogOr(l ports.EventLog) ports.EventLog {
	if l == nil {
		return ports.DropEvents{}
	}
	return l
}

// processEvent is the event typ about r, by actor at at.
func processEvent(r *ports.ProcessRecord, typ, actor string, at time.Time) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(typ, AggregateProcess, r.ID, at)
	ev.OrgID, ev.Actor = r.OrgID, actor
	ev.Data = map[string]string{"state": r.State, "channel": r.ChannelType}
	return ev
}

// keepsEvents reports whether the store keeps the events of its writes
// (ports.KeepsEvents): the emit methods build none for a store that drops them.
func (s *ProcessService) keepsEvents() bool { return ports.KeepsEvents(s.store) }

// emitProcess appends the event typ about r to r's Outbox.
func (s *ProcessService) emitProcess(r *ports.ProcessRecord, typ, actor string, at time.Time) {
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
func (s *ProcessService) emitIssued(r *ports.ProcessRecord, d *otp.Draft, typ, actor string, at time.Time) {
	if s.keepsEvents() {
		emitProcessCode(r, otp.IssuedEvent(d, AggregateProcess, r.ID), actor)
		s.emitProcess(r, typ, actor, at)
	}
}

// emitChecked appends the events of a validation attempt that answered res and err: the
// code's event, then validated or validation_failed (with the cause).
func (s *ProcessService) emitChecked(r *ports.ProcessRecord, res otp.VerifyResult, err error, secondFactor bool, actor string, at time.Time) {
	if !s.keepsEvents() {
		return
	}
	if res.CodeID == "" {
		res.CodeID = r.Verification.Code.ID
	}
	emitProcessCode(r, otp.CheckEvent(res, err, AggregateProcess, r.ID, s.cfg.CodePurpose, at), actor)
	if err == nil {
		s.emitProcess(r, EventProcessValidated, actor, at)
		return
	}
	ev := processEvent(r, EventProcessValidationFailed, actor, at)
	ev.Outcome, ev.Reason = ports.OutcomeRefused, otp.FailureReason(err)
	if secondFactor {
		ev.Reason = "second_factor_mismatch"
	}
	r.Outbox = append(r.Outbox, ev)
}

// emitUndeliverable appends the code.undeliverable event of the code codeID.
func (s *ProcessService) emitUndeliverable(r *ports.ProcessRecord, codeID string, at time.Time) {
	if !s.keepsEvents() {
		return
	}
	emitProcessCode(r, otp.CodeEvent(otp.EventCodeUndeliverable, AggregateProcess, r.ID, s.cfg.CodePurpose, codeID, at), "")
}

// deletedEvent is the event of the deletion of r, which was in state (forced or not), by
// actor at at: it goes in the Outbox of the Update that deletes r.
func deletedEvent(r *ports.ProcessRecord, state string, forced bool, actor string, at time.Time) ports.LifecycleEvent {
	ev := ports.NewLifecycleEvent(EventProcessDeleted, AggregateProcess, r.ID, at)
	ev.OrgID, ev.Actor = r.OrgID, actor
	ev.Data = map[string]string{"state": state, "forced": strconv.FormatBool(forced)}
	return ev
}

// deleteRefused appends the refusal (for reason) to delete the process id, in state, to the
// event log: nothing changed, so there is no write to carry it. A failure to append is
// logged.
func (s *ProcessService) deleteRefused(ctx context.Context, orgID, id, state, reason, actor string, at time.Time) {
	ev := ports.NewLifecycleEvent(EventProcessDeleted, AggregateProcess, id, at)
	ev.OrgID, ev.Actor, ev.Outcome, ev.Reason = orgID, actor, ports.OutcomeRefused, reason
	ev.Data = map[string]string{"state": state}
	if err := s.events.Append(context.WithoutCancel(ctx), ev); err != nil {
		s.log.WarnContext(ctx, "otp identification deletion refusal event not stored", "error", err.Error())
	}
}

// emitAudit appends to r's Outbox the event that records the audit event a (with a new id
// and the time now), in the profile's organisation: the event is the audit trail's only
// stored form.
func emitAudit(r *ports.ProfileRecord, a ports.ProfileAuditEvent, now time.Time) {
	a.ID, a.At = uuid.NewString(), now
	r.Outbox = append(r.Outbox, ports.ProfileEvent(a, r.OrganizationID))
}

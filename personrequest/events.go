package personrequest

import (
	"context"
	"time"

	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// The types of the events (ports.LifecycleEvent) of person requests. Each goes in the
// request's Outbox, so the store writes it with the change it reports; the code events of
// the request's codes (otp.EventCodeIssued, ...) go with them.
const (
	EventCreated    = "personrequest.created"
	EventCodeResent = "personrequest.code_resent"
	EventApproved   = "personrequest.approved"
	EventSigned     = "personrequest.signed"
	EventRejected   = "personrequest.rejected"
	EventCancelled  = "personrequest.cancelled"
	EventExpired    = "personrequest.expired"
)

// AggregateType is the ports.LifecycleEvent.AggregateType of person requests.
const AggregateType = "person_request"

// authorizeAs is authorize that also returns the token's subject, the events' actor.
func (s *Service) authorizeAs(ctx context.Context, token, scope string) (string, error) {
	claims, err := authz.Authorize(ctx, s.tokens, s.clock, token, scope)
	return claims.Subject, err
}

// beginAs is begin that also returns the token's subject.
func (s *Service) beginAs(ctx context.Context, token, scope, id string, from ...Status) (ports.PersonRequest, string, error) {
	actor, err := s.authorizeAs(ctx, token, scope)
	if err != nil {
		return ports.PersonRequest{}, "", err
	}
	r, err := s.load(ctx, id)
	if err != nil {
		return ports.PersonRequest{}, "", err
	}
	if len(from) > 0 && !statusIn(r.Status, from) {
		return ports.PersonRequest{}, "", incorrectStatus()
	}
	return r, actor, nil
}

// keepsEvents reports whether the store keeps the events of its writes
// (ports.KeepsEvents): the emit methods build none for a store that drops them.
func (s *Service) keepsEvents() bool { return ports.KeepsEvents(s.store) }

// emit appends the event typ about r, by actor at at, to r's Outbox.
func (s *Service) emit(r *ports.PersonRequest, typ, actor string, at time.Time) {
	if !s.keepsEvents() {
		return
	}
	ev := ports.NewLifecycleEvent(typ, AggregateType, r.ID, at)
	ev.Actor = actor
	ev.Data = map[string]string{"status": string(r.Status)}
	r.Outbox = append(r.Outbox, ev)
}

// emitCode appends the code event ev (made by package otp) by actor to r's Outbox.
func emitCode(r *ports.PersonRequest, ev ports.LifecycleEvent, actor string) {
	ev.Actor = actor
	r.Outbox = append(r.Outbox, ev)
}

// emitIssued appends the code.issued event of d to r's Outbox.
func (s *Service) emitIssued(r *ports.PersonRequest, d *otp.Draft, actor string) {
	if !s.keepsEvents() {
		return
	}
	emitCode(r, otp.IssuedEvent(d, AggregateType, r.ID), actor)
}

// emitCheck appends the event of a code check that answered res and err.
func (s *Service) emitCheck(r *ports.PersonRequest, res otp.VerifyResult, err error, actor string, at time.Time) {
	if !s.keepsEvents() {
		return
	}
	emitCode(r, otp.CheckEvent(res, err, AggregateType, r.ID, s.cfg.Purpose, at), actor)
}

// emitApproved appends the events of an approval: the code verified (withCode) and the
// request approved.
func (s *Service) emitApproved(r *ports.PersonRequest, withCode bool, actor string, at time.Time) {
	if withCode {
		s.emitCheck(r, otp.VerifyResult{CodeID: r.Verification.Code.ID, State: r.Verification.Code.State}, nil, actor, at)
	}
	s.emit(r, EventApproved, actor, at)
}

// emitUndeliverable appends the code.undeliverable event of the code codeID.
func (s *Service) emitUndeliverable(r *ports.PersonRequest, codeID string, at time.Time) {
	if !s.keepsEvents() {
		return
	}
	emitCode(r, otp.CodeEvent(otp.EventCodeUndeliverable, AggregateType, r.ID, s.cfg.Purpose, codeID, at), "")
}

// statusEvent is the event type of a move to st.
func statusEvent(st Status) string {
	switch st {
	case StatusSigned:
		return EventSigned
	case StatusRejected:
		return EventRejected
	case StatusCancelled:
		return EventCancelled
	case StatusApproved:
		return EventApproved
	}
	return EventExpired
}

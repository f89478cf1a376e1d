package authmethod

import (
	"context"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// The types of the events (ports.LifecycleEvent) of authentication methods. A deactivation
// goes in the method's Outbox, written with it; a refused deactivation changes nothing and
// goes to Deps.Events.
const (
	EventDeactivated         = "authmethod.deactivated"
	EventDeactivationRefused = "authmethod.deactivation_refused"
)

// AggregateType is the ports.LifecycleEvent.AggregateType of authentication methods.
const AggregateType = "auth_method"

// eventLogOr returns l, or the log that drops every event when l is nil.
func eventLogOr(l ports.EventLog) ports.EventLog {
	if l == nil {
		return ports.DropEvents{}
	}
	return l
}

// emitDeactivated appends the deactivation of m (by the applicant) to its Outbox.
func emitDeactivated(m *ports.AuthMethodRecord, newPrimaryID, applicantID string, at time.Time) {
	ev := ports.NewLifecycleEvent(EventDeactivated, AggregateType, m.ID, at)
	ev.Actor = applicantID
	ev.Data = map[string]string{"person_id": m.PersonID, "type": string(m.Type), "new_primary_id": newPrimaryID}
	if m.Phone != "" {
		ev.Data["recipient"] = ports.MaskPhone(m.Phone)
	}
	m.Outbox = append(m.Outbox, ev)
}

// refused appends the refusal of a deactivation by rule c to the event log. A failure to
// append is logged: the answer to the caller stays the refusal.
func (s *Service) refused(ctx context.Context, c Check, applicantID, personID, methodID string) {
	ev := ports.NewLifecycleEvent(EventDeactivationRefused, AggregateType, methodID, s.clock.Now())
	ev.Actor, ev.Outcome, ev.Reason = applicantID, ports.OutcomeRefused, string(c.Rule)
	ev.Data = map[string]string{"person_id": personID}
	if err := s.events.Append(context.WithoutCancel(ctx), ev); err != nil {
		s.log.WarnContext(ctx, "authentication method refusal event not stored", "error", err.Error())
	}
}

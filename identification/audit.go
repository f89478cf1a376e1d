package identification

import (
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit/ports"
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

// AggregateProfile is the ports.LifecycleEvent.AggregateType of profiles.
const AggregateProfile = ports.AggregateProfile

// emitAudit appends to r's Outbox the event that records the audit event a (with a new id
// and the time now), in the profile's organisation: the event is the audit trail's only
// stored form.
func emitAudit(r *ports.ProfileRecord, a ports.ProfileAuditEvent, now time.Time) {
	a.ID, a.At = uuid.NewString(), now
	r.Outbox = append(r.Outbox, ports.ProfileEvent(a, r.OrganizationID))
}

package ports

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
)

// LifecycleEvent reports one decision of a flow, allowed or refused: a code issued or checked, a
// person request created or approved, a method deactivated or the deactivation refused, a
// profile reset, an identification process validated, ... Events leave the process through
// an outbox (OutboxStore) and a dispatcher (adapters/webhook), at least once.
//
// An event never holds a code, a token, a full phone number or a document number, nor any
// free text a caller wrote: Reason is an error kind, a rule or a failure cause, and Data
// holds ids, states and masked recipients only (MaskPhone, MaskRecipient).
type LifecycleEvent struct {
	// ID identifies the event (a UUID). It is the webhook-id of every delivery of it, so a
	// receiver drops a repeated delivery by it.
	ID string `json:"id"`
	// Type names what happened, "<aggregate>.<what>", e.g. "personrequest.code_resent".
	Type string `json:"type"`
	// Time is when it happened, on the flow's clock.
	Time time.Time `json:"time"`
	// OrgID is the organisation the aggregate belongs to, when it belongs to one.
	OrgID string `json:"org_id,omitempty"`
	// AggregateType names the kind of record the event is about, e.g. "person_request",
	// "otp_identification", "profile", "auth_method", "otp_code".
	AggregateType string `json:"aggregate_type"`
	// AggregateID identifies that record (a person request's id, a user's id, ...).
	AggregateID string `json:"aggregate_id"`
	// AggregateVersion is the version of the record the change stored
	// (ports.ProcessRecord.Version, ports.PersonRequest.Version, ports.ProfileRecord.Version,
	// ports.AuthMethodRecord.Version, and for standalone codes the Version of their
	// ports.Verification): 1 for the creation, one more per stored change. The stores set it
	// on the events of the write that are about the record (AggregateID equal to its ID, a
	// standalone code's id for its Verification), so it is the version that write stored.
	// Events that go with no change (EventLog) carry 0: receivers order those by Time (the
	// outbox hands them out in the order they were stored).
	AggregateVersion int64 `json:"aggregate_version"`
	// Actor is who acted: the token subject (the applicant's person id for
	// authentication methods); empty for background jobs and receipts.
	Actor string `json:"actor,omitempty"`
	// Outcome is OutcomeSucceeded or OutcomeRefused.
	Outcome string `json:"outcome"`
	// Reason says why a decision was refused (or what a failed code check met): an error
	// kind, a rule name or a failure cause, e.g. "wrong_code". Never free text.
	Reason string `json:"reason,omitempty"`
	// Data holds the event's details: ids, states, masked recipients.
	Data map[string]string `json:"data,omitempty"`
}

// The outcomes of a LifecycleEvent.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeRefused   = "refused"
)

// NewLifecycleEvent returns a succeeded event of typ about the aggregate, at at, with a fresh id.
func NewLifecycleEvent(typ, aggregateType, aggregateID string, at time.Time) LifecycleEvent {
	return LifecycleEvent{ID: uuid.NewString(), Type: typ, Time: at, AggregateType: aggregateType, AggregateID: aggregateID, Outcome: OutcomeSucceeded}
}

// Clone returns a deep copy of ev.
func (ev LifecycleEvent) Clone() LifecycleEvent {
	ev.Data = maps.Clone(ev.Data)
	return ev
}

// CloneLifecycleEvents returns a deep copy of evs; nil stays nil.
func CloneLifecycleEvents(evs []LifecycleEvent) []LifecycleEvent {
	if evs == nil {
		return nil
	}
	out := slices.Clone(evs)
	for i := range out {
		out[i] = out[i].Clone()
	}
	return out
}

// StampVersion sets version as the AggregateVersion of the events of evs about the
// aggregate id: the stores call it on a record's Outbox with the version they store.
func StampVersion(evs []LifecycleEvent, id string, version int64) {
	for i := range evs {
		if evs[i].AggregateID == id {
			evs[i].AggregateVersion = version
		}
	}
}

// EventLog records events that go with no stored change: refusals that change nothing (a
// denied deactivation, say). Events of a change go through the Outbox field of the record
// the change writes, so that they are stored in the same atomic step. The outboxes of the
// adapters implement it (memory.Outbox, postgres.Outbox, redis.Outbox); DropEvents drops
// every event.
type EventLog interface {
	// Append stores evs for publication, in order, all or none.
	Append(ctx context.Context, evs ...LifecycleEvent) error
}

// DropEvents is the EventLog of flows built without one: it drops every event.
type DropEvents struct{}

// Append implements EventLog: it drops evs.
func (DropEvents) Append(context.Context, ...LifecycleEvent) error { return nil }

// EventKeeper is implemented by a store that can tell whether it keeps the events of a
// write's Outbox: a memory store with no outbox attached drops them. The flows build no
// events for a store that answers false, since nothing would read them.
type EventKeeper interface {
	// KeepsEvents reports whether the store keeps the events of the writes it takes now.
	KeepsEvents() bool
}

// KeepsEvents reports whether store keeps the events of a write's Outbox: true unless it
// is an EventKeeper that answers false.
func KeepsEvents(store any) bool {
	k, ok := store.(EventKeeper)
	return !ok || k.KeepsEvents()
}

// OutboxState is the delivery state of an outbox entry.
type OutboxState string

// The states of an outbox entry.
const (
	// OutboxPending: waiting for its (next) delivery attempt.
	OutboxPending OutboxState = "pending"
	// OutboxDelivered: delivered to every target; final.
	OutboxDelivered OutboxState = "delivered"
	// OutboxDead: its last attempt failed; it waits for a host to re-drive it.
	OutboxDead OutboxState = "dead"
)

// OutboxEntry is one event in an outbox, with its delivery state.
type OutboxEntry struct {
	Event LifecycleEvent
	State OutboxState
	// Attempts counts the failed delivery attempts so far.
	Attempts int
	// NextAttemptAt is when the entry may next be claimed.
	NextAttemptAt time.Time
	// LockedUntil is when the lease of the dispatcher that claimed it ends (zero: none).
	LockedUntil time.Time
	// LastError is what the last failed attempt met (no secrets: a status code, a cause).
	LastError string
	// DeliveredTo names the targets (subscribers, endpoints) that got the event already,
	// so a retry skips them.
	DeliveredTo []string
	// DeliveredAt is when the entry was acknowledged (Ack's now); zero unless
	// OutboxDelivered. Purge goes by it.
	DeliveredAt time.Time
}

// AuditAggregateTypes are the aggregate types whose events are an audit trail as well as
// notifications: the ProfileAuditLog reads the events of AggregateProfile from the outbox,
// their only stored form. A purge of delivered entries keeps them
// (PurgeRequest.KeepAggregateTypes; webhook.Dispatcher does so): a host that wants to drop
// old audit events purges them itself, with a PurgeRequest that does not keep them.
var AuditAggregateTypes = []string{AggregateProfile}

// PurgeRequest selects the delivered outbox entries OutboxStore.Purge deletes.
type PurgeRequest struct {
	// DeliveredBefore: only entries delivered (OutboxEntry.DeliveredAt) before it go.
	DeliveredBefore time.Time
	// KeepAggregateTypes are aggregate types whose events are never purged, delivered or
	// not: pass AuditAggregateTypes to keep the audit trail.
	KeepAggregateTypes []string
	// Limit is the most entries one call deletes; 0: no limit. Negative is invalid.
	Limit int
}

// Validate returns a KindInvalidInput error naming "Limit" when it is negative, or nil.
func (r PurgeRequest) Validate() error {
	if r.Limit < 0 {
		return verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
			Entry: "Limit", EntryType: verifykit.EntryConfig, Rule: "positive", Description: "must not be negative",
		})
	}
	return nil
}

// ErrOutboxEntryNotFound is returned when no outbox entry has the id (or, for Redrive, no
// dead one has it).
var ErrOutboxEntryNotFound = errors.New("outbox entry not found")

// ErrEventExists is returned by a store asked to write an event whose id an event it holds
// already has; nothing of that write is stored.
var ErrEventExists = errors.New("an event with this id is already stored")

// ErrOutboxLeaseLost is returned when a claimed entry is no longer pending under the lease
// its Claim gave: the lease ran out and another dispatcher may hold the entry now.
var ErrOutboxLeaseLost = errors.New("outbox entry lease lost")

// OutboxStore is the reading side of an outbox: the events the stores wrote with their
// changes, handed out to dispatchers. Several dispatchers (of several host instances) may
// share one: Claim leases the entries it returns, so in normal operation each entry is
// delivered by one of them; an entry whose lease ran out (its dispatcher died) is claimed
// again, so delivery is at least once.
type OutboxStore interface {
	// Claim returns up to limit pending entries due at now (NextAttemptAt at or before now)
	// that no lease holds, oldest first, and leases them until now+lease, in one atomic step.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxEntry, error)
	// MarkDelivered records that the target got the claimed entry e (idempotent). Like
	// Ack, Retry and Dead, it applies only while e is pending and still under the lease
	// its Claim gave (e.LockedUntil): otherwise it changes nothing and answers
	// ErrOutboxLeaseLost, so a dispatcher whose lease ran out cannot overwrite what the
	// dispatcher that claimed the entry next records.
	MarkDelivered(ctx context.Context, e OutboxEntry, target string) error
	// Ack marks the claimed entry e delivered, at now; it is final.
	Ack(ctx context.Context, e OutboxEntry, now time.Time) error
	// Retry counts one failed attempt on the claimed entry e, ends its lease and makes it
	// due again at nextAttemptAt, noting lastErr.
	Retry(ctx context.Context, e OutboxEntry, nextAttemptAt time.Time, lastErr string) error
	// Dead counts the last failed attempt on the claimed entry e and moves it to
	// OutboxDead.
	Dead(ctx context.Context, e OutboxEntry, lastErr string) error
	// DeadLetters returns up to limit dead entries, oldest first.
	DeadLetters(ctx context.Context, limit int) ([]OutboxEntry, error)
	// Redrive moves the dead entry id back to pending, due at now, its attempts reset (the
	// targets that got it are still skipped). ErrOutboxEntryNotFound when no dead entry has
	// the id.
	Redrive(ctx context.Context, id string, now time.Time) error
	// Purge deletes up to req.Limit (0: every one) delivered entries whose DeliveredAt is
	// before req.DeliveredBefore, oldest delivery first, except the events of the aggregate
	// types of req.KeepAggregateTypes; pending and dead entries are never deleted. It
	// returns how many it deleted. It is safe beside Claim and other Purges (of other
	// instances): an entry is deleted once, and only once it is delivered. A negative
	// Limit is refused (req.Validate) and deletes nothing.
	Purge(ctx context.Context, req PurgeRequest) (int, error)
}

package ports

import (
	"context"
	"errors"
	"time"
)

// ProcessState is the life-cycle state of an OTP identification process, one of the five
// constants below: the one enum of process states, which the flow (package
// identification/otpprocess) names State.
//
//	CREATED --validate (right code and second factor)--> VALIDATED
//	CREATED --cancel (with a reason)-------------------> CANCELLED
//	CREATED --expires_at passes------------------------> EXPIRED
//	CREATED --the code's attempts are used up----------> BLOCKED
//
// Only CREATED processes can be resent, cancelled, validated or deleted without force;
// the other states are final. A ProcessStore must know two of them: it reports a CREATED
// process whose ExpiresAt has passed as EXPIRED (see EffectiveProcessState), and ExpireDue
// persists that change.
type ProcessState string

// The states of an OTP identification process.
const (
	ProcessStateCreated   ProcessState = "CREATED"
	ProcessStateValidated ProcessState = "VALIDATED"
	ProcessStateCancelled ProcessState = "CANCELLED"
	ProcessStateExpired   ProcessState = "EXPIRED"
	ProcessStateBlocked   ProcessState = "BLOCKED"
)

// Valid reports whether s is one of the five states.
func (s ProcessState) Valid() bool {
	switch s {
	case ProcessStateCreated, ProcessStateValidated, ProcessStateCancelled, ProcessStateExpired, ProcessStateBlocked:
		return true
	}
	return false
}

// ProcessChannelType is how the one-time code of a process reaches the actor.
type ProcessChannelType string

// The channels of a process.
const (
	ProcessChannelSMS      ProcessChannelType = "SMS"
	ProcessChannelEmail    ProcessChannelType = "EMAIL"
	ProcessChannelWhatsApp ProcessChannelType = "WHATSAPP"
)

// ProcessChannel says how the code of a process is delivered. With External set, the SDK
// does not send the code: the flow returns it once, and the organisation delivers it
// itself.
type ProcessChannel struct {
	Type     ProcessChannelType
	External bool
}

// ProcessTwoFactorType is the second factor an actor gives with the code; empty for none.
type ProcessTwoFactorType string

// The second factors of a process.
const (
	// ProcessTwoFactorDocumentNumber: the actor types the number of their identity
	// document; it must match Actor.IdentityDocument.DocumentNumber, case and spaces aside.
	ProcessTwoFactorDocumentNumber ProcessTwoFactorType = "DOCUMENT_NUMBER"
	// ProcessTwoFactorEmail: the actor types their e-mail address; it must match
	// Actor.Email, case and spaces aside.
	ProcessTwoFactorEmail ProcessTwoFactorType = "EMAIL"
	// ProcessTwoFactorDocumentImage: the actor gives a reference to an image (back and
	// front) of the identity document named by Actor.IdentityDocument.DocumentNumber. The
	// SDK cannot read images: any non-empty reference is accepted with the right code, and
	// kept in Process.TwoFactorEvidence for the organisation to review.
	ProcessTwoFactorDocumentImage ProcessTwoFactorType = "PERSONAL_DOCUMENT_IMAGE"
)

// ErrProcessNotFound is returned by ProcessStore methods when no process has the id in
// the organisation named. A process of another organisation is not found.
var ErrProcessNotFound = errors.New("otp identification process not found")

// ErrProcessExists is returned by ProcessStore.Create when a process with the same id
// exists already, in any organisation.
var ErrProcessExists = errors.New("otp identification process already exists")

// ProcessPhone is a phone number split as the API receives it: the country calling code
// and the national number, digits only (the flow accepts a leading "+" on the country code
// and spaces in the number, and drops them).
type ProcessPhone struct {
	// CountryCode is the country calling code, digits only, e.g. "34".
	CountryCode string
	// PhoneNumber is the national number, digits only.
	PhoneNumber string
}

// E164 returns the number in E.164 form, e.g. "+34600111222", or "" when it is not set.
func (p ProcessPhone) E164() string {
	if p.CountryCode == "" && p.PhoneNumber == "" {
		return ""
	}
	return "+" + p.CountryCode + p.PhoneNumber
}

// ProcessDocument is an identity document of an actor.
type ProcessDocument struct {
	DocumentType   string
	DocumentNumber string
	// Country is the issuing country, e.g. "ES".
	Country string
}

// ProcessActor is the person an OTP identification process identifies. Empty strings
// mean "not given".
type ProcessActor struct {
	Name             string
	LastName         string
	Email            string
	MSISDN           ProcessPhone
	IdentityDocument ProcessDocument
	// Language is the actor's preferred language, e.g. "es".
	Language string
}

// Process is an OTP identification process as its organisation sees it: every field of a
// stored process except its code. Zero times mean "not happened".
type Process struct {
	// ID identifies the process (a UUID), unique across organisations.
	ID string
	// OrgID is the organisation that owns the process. Every store method is scoped by it.
	OrgID string
	// State is the stored state; EffectiveProcessState tells the state at a given time.
	State ProcessState
	// Actor is who must prove their identity.
	Actor ProcessActor
	// TwoFactorType is the second factor the actor must give; empty for none.
	TwoFactorType ProcessTwoFactorType
	// Channel is how the code reaches the actor.
	Channel ProcessChannel
	// CreatedAt is when the process was opened; UpdatedAt when it last changed.
	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is when a CREATED process becomes EXPIRED: at ExpiresAt it is expired.
	ExpiresAt time.Time
	// CodeSentAt is when the latest code was issued; CodesSent counts the codes issued.
	CodeSentAt time.Time
	CodesSent  int
	// FailedAttempts counts failed validations (wrong code or wrong second factor).
	FailedAttempts int
	// ValidatedAt is when the process became VALIDATED.
	ValidatedAt time.Time
	// TwoFactorEvidence is what the actor gave as second factor for
	// PERSONAL_DOCUMENT_IMAGE (a reference to the uploaded image), kept for review.
	TwoFactorEvidence string
	// CancelledAt and CancelReason are set when the process is CANCELLED.
	CancelledAt  time.Time
	CancelReason string
}

// ProcessRecord is a stored OTP identification process: the Process, and what only the
// flow and the store see. It holds its latest one-time code (only the code's keyed hash)
// in Verification, so that a validation consumes the code and stores VALIDATED in one
// atomic Update. Copy it with Clone.
//
// Stores keep times to the microsecond at least and may return them in another location
// (e.g. UTC); callers compare them with time.Time.Equal.
type ProcessRecord struct {
	Process
	// Verification is the process's latest code and its failed attempts.
	Verification Verification
	// Outbox are the events to publish with this write: the store writes them to its
	// outbox in the same atomic step as the process (Create, Update, an Update that
	// deletes) and never keeps them in the process; records read back hold none.
	Outbox []LifecycleEvent
	// Version counts the stored changes of the process: Create stores 1, each Update (a
	// deleting one included) and ExpireDue store the version they read plus one, whatever
	// the caller left in it. The store sets it as the AggregateVersion of the Outbox events
	// of the write that are about the process (AggregateID == ID).
	Version int64
	// Deleted, when the fn of an Update sets it, makes that Update delete the process
	// instead of storing it, in the same atomic step as the write of Outbox: a deletion and
	// its event. It is never stored; records read back have it false.
	Deleted bool
}

// Clone returns a deep copy of r: changing the copy's slices never changes r.
func (r ProcessRecord) Clone() ProcessRecord {
	r.Verification = r.Verification.Clone()
	r.Outbox = CloneLifecycleEvents(r.Outbox)
	return r
}

// EffectiveProcessState is the state rec has at now: a CREATED process whose ExpiresAt is
// at or before now is EXPIRED; any other state is rec.State. ProcessStore.List filters on
// it, so a process is listed in the state readers see even before ExpireDue persists it.
func EffectiveProcessState(rec ProcessRecord, now time.Time) ProcessState {
	if rec.State == ProcessStateCreated && !now.Before(rec.ExpiresAt) {
		return ProcessStateExpired
	}
	return rec.State
}

// ProcessFilter selects processes for ProcessStore.List.
type ProcessFilter struct {
	// OrgID is the organisation whose processes are listed. Required: a store never lists
	// across organisations.
	OrgID string
	// States keeps processes whose EffectiveProcessState at Now is one of them; empty
	// keeps every state.
	States []ProcessState
	// Now is the time EffectiveProcessState is evaluated at.
	Now time.Time
	// Offset skips that many matching processes; Limit returns at most that many (0: no
	// limit). Processes are ordered by CreatedAt, then ID, ascending.
	Offset int
	Limit  int
}

// ProcessPage is one page of ProcessStore.List.
type ProcessPage struct {
	// Processes are the processes of the page, in order.
	Processes []ProcessRecord
	// Total counts every process matching the filter, ignoring Offset and Limit.
	Total int
}

// ProcessStore stores OTP identification processes. Every method is atomic with respect to
// the others for the same process, including across processes of the host for shared
// stores. Values are copied in and out: callers cannot change stored state through them.
type ProcessStore interface {
	// Create stores a new process. It returns ErrProcessExists when a process with rec.ID
	// exists, in any organisation, and then stores nothing.
	Create(ctx context.Context, rec ProcessRecord) error

	// Get returns the process id of the organisation orgID, or ErrProcessNotFound (also
	// when the id belongs to another organisation).
	Get(ctx context.Context, orgID, id string) (ProcessRecord, error)

	// Update locks the process id of orgID, calls fn with a copy of it, and stores what fn
	// left in the copy, with its Outbox, all in one atomic step; it returns the stored record
	// (its Outbox cleared). fn is called exactly once when the process exists, and never
	// otherwise (ErrProcessNotFound). If fn returns an error nothing is written and Update
	// returns that error unchanged. Changes fn makes to ID and OrgID are ignored. When fn
	// sets Deleted, the process is deleted instead of stored (its Outbox is still written)
	// and Update returns the record as fn left it, its Outbox cleared and Deleted still set:
	// this is how a flow deletes a process with the event of the deletion. fn must not call
	// the store.
	Update(ctx context.Context, orgID, id string, fn func(*ProcessRecord) error) (ProcessRecord, error)

	// List returns the processes of filter.OrgID that match filter, ordered by CreatedAt
	// then ID, and how many match in all.
	List(ctx context.Context, filter ProcessFilter) (ProcessPage, error)

	// ExpireDue sets State EXPIRED and UpdatedAt = now on up to limit CREATED processes,
	// of any organisation, whose ExpiresAt is at or before now, and returns how many it
	// changed. With each process it expires it writes, in the same atomic step, the event
	// ProcessExpiredEvent(rec, now) of the expired record to its outbox.
	ExpireDue(ctx context.Context, now time.Time, limit int) (int, error)
}

// The type and aggregate type of the event of an expired OTP identification process. The
// flow (package otpprocess) names them too, with its other process events; they are
// here because ProcessStore.ExpireDue writes the events of the processes it expires.
const (
	EventProcessExpired = "otp_identification.expired"
	AggregateProcess    = "otp_identification"
)

// ProcessExpiredEvent is the event of the expiry of rec at at, which ProcessStore.ExpireDue
// writes with each process it expires (rec as expired: State EXPIRED, its new Version). It
// is the event the flow writes when it finds a process past its expiry: no actor, the
// state and channel in Data.
func ProcessExpiredEvent(rec ProcessRecord, at time.Time) LifecycleEvent {
	ev := NewLifecycleEvent(EventProcessExpired, AggregateProcess, rec.ID, at)
	ev.OrgID, ev.AggregateVersion = rec.OrgID, rec.Version
	ev.Data = map[string]string{"state": string(rec.State), "channel": string(rec.Channel.Type)}
	return ev
}

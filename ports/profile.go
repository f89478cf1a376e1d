package ports

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
)

// IdentificationStatus is where a profile is in its identification (lower-case on the wire).
type IdentificationStatus string

// The identification statuses of a profile (SDK.Finance).
const (
	// IdentificationNone: not identified; after a reset, waiting for the customer.
	IdentificationNone IdentificationStatus = "none"
	// IdentificationPending: submitted, waiting for an operator.
	IdentificationPending IdentificationStatus = "pending"
	// IdentificationReviewRequired: an operator must look closer.
	IdentificationReviewRequired IdentificationStatus = "review_required"
	// IdentificationDeclined: refused; the customer may submit again.
	IdentificationDeclined IdentificationStatus = "declined"
	// IdentificationApproved: identified.
	IdentificationApproved IdentificationStatus = "approved"
	// IdentificationClosed: final; nothing changes a closed profile.
	IdentificationClosed IdentificationStatus = "closed"
)

// DocumentStatus is the status of one document of a profile.
type DocumentStatus string

// The statuses of a profile document.
const (
	DocumentPending        DocumentStatus = "pending"
	DocumentApproved       DocumentStatus = "approved"
	DocumentDeclined       DocumentStatus = "declined"
	DocumentOutdated       DocumentStatus = "outdated"
	DocumentReviewRequired DocumentStatus = "review_required"
	DocumentInVerification DocumentStatus = "in_verification"
)

// Profile is a user's profile in the shape of the SDK.Finance API (the response example of
// "reset an identification of user with remarks"), JSON tags included, so an HTTP adapter
// can encode it as it is.
//
// The struct tag `profile:"-"` marks a field (and everything under it) that a reset may not
// name: identifiers, the profile type, the identification status and the security
// settings. The identification package derives its registry of resettable field paths from
// this type: every string field reachable through nested structs, by its JSON names joined
// with dots (e.g. "person.namePlain.first"), except those marked. Slices and maps
// (socialMedias, additional) and non-string fields are never resettable.
type Profile struct {
	Person     ProfilePerson        `json:"person"`
	Contact    ProfileContact       `json:"contact"`
	Type       string               `json:"type" profile:"-"`
	Status     IdentificationStatus `json:"status" profile:"-"`
	Business   ProfileBusiness      `json:"business"`
	Address    ProfileAddress       `json:"address"`
	Additional map[string]string    `json:"additional"`
	Security   ProfileSecurity      `json:"security" profile:"-"`
}

// ProfilePerson is the person block of a Profile.
type ProfilePerson struct {
	// NamePlain is the name in the person's own script.
	NamePlain ProfileName `json:"namePlain"`
	// NameIntl is the name in Latin script.
	NameIntl    ProfileName `json:"nameIntl"`
	Description string      `json:"description"`
}

// ProfileName is a person's name.
type ProfileName struct {
	First  string `json:"first"`
	Last   string `json:"last"`
	Middle string `json:"middle"`
}

// ProfileContact is the contact block of a Profile.
type ProfileContact struct {
	ID            string               `json:"id" profile:"-"`
	Nickname      string               `json:"nickname"`
	FirstName     string               `json:"firstName"`
	LastName      string               `json:"lastName"`
	Address       string               `json:"address"`
	City          string               `json:"city"`
	Country       string               `json:"country"`
	PostCode      string               `json:"postCode"`
	Email         string               `json:"email"`
	PhoneNumber   string               `json:"phoneNumber"`
	PhotoPath     string               `json:"photoPath"`
	SocialMedias  []ProfileSocialMedia `json:"socialMedias"`
	AccountNumber string               `json:"accountNumber"`
	SwiftBic      string               `json:"swiftBic"`
	OwnerID       string               `json:"ownerId" profile:"-"`
	LinkedUserID  string               `json:"linkedUserId" profile:"-"`
}

// ProfileSocialMedia is one social-media reference of a contact.
type ProfileSocialMedia struct {
	ID                   string `json:"id"`
	SocialMediaType      string `json:"socialMediaType"`
	SocialMediaReference string `json:"socialMediaReference"`
}

// ProfileBusiness is the business block of a Profile.
type ProfileBusiness struct {
	CompanyName string `json:"companyName"`
	// Legal is the legal form, e.g. "individual".
	Legal string `json:"legal"`
	// Type is the kind of business, e.g. "eshop".
	Type          string               `json:"type"`
	Vat           string               `json:"vat"`
	Administrator ProfileAdministrator `json:"administrator"`
}

// ProfileAdministrator is the administrator of a business.
type ProfileAdministrator struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// ProfileAddress is the postal address of a Profile.
type ProfileAddress struct {
	// Country is an ISO 3166-1 alpha-2 code, e.g. "AD".
	Country     string `json:"country"`
	ZipCode     string `json:"zipCode"`
	City        string `json:"city"`
	Street      string `json:"street"`
	HouseNumber string `json:"houseNumber"`
}

// ProfileSecurity holds the security settings of a Profile.
type ProfileSecurity struct {
	TwoFactorsAuthEnabled     bool                 `json:"twoFactorsAuthEnabled"`
	TransactionNotification   ProfileNotifications `json:"transactionNotification"`
	AuthorizationNotification ProfileNotifications `json:"authorizationNotification"`
}

// ProfileNotifications says on which channels a notification is sent.
type ProfileNotifications struct {
	Phone bool `json:"phone"`
	Email bool `json:"email"`
}

// Clone returns a deep copy of p: slices and maps are copied, nil stays nil.
func (p Profile) Clone() Profile {
	p.Contact.SocialMedias = slices.Clone(p.Contact.SocialMedias)
	p.Additional = maps.Clone(p.Additional)
	return p
}

// ProfileDocument is one identification document of a profile.
type ProfileDocument struct {
	ID     string         `json:"id"`
	Type   string         `json:"type"`
	Status DocumentStatus `json:"status"`
	// UpdatedAt is when Status last changed.
	UpdatedAt time.Time `json:"updatedAt"`
}

// ProfileRecord is a stored profile with what the identification flow keeps about it.
type ProfileRecord struct {
	// UserID identifies the user who owns the profile; it is the store key.
	UserID string
	// OrganizationID is the organisation the user belongs to ("" when none).
	OrganizationID string
	// Profile is the profile; Profile.Status is the identification status.
	Profile Profile
	// Documents are the profile's identification documents.
	Documents []ProfileDocument
	// MandatoryFields are the field paths named by the last reset, in the order given.
	MandatoryFields []string
	// PendingFields are the mandatory fields the user has not updated since the last
	// reset; the profile can be submitted when it is empty.
	PendingFields []string
	// ResetAt and ResetBy say when and by whom (a token subject) the last reset was done.
	ResetAt time.Time
	ResetBy string
	// CreatedAt and UpdatedAt are when the record was created and last written.
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version counts the stored changes of the profile: Create stores 1, each Update the
	// version it read plus one, whatever the caller left in it. The store sets it as the
	// AggregateVersion of the Outbox events about the profile (StampVersion).
	Version int64

	// OpenResetRequest is the user's open (PENDING) reset identification request, nil when
	// there is none. The store reads it with the profile (Get, Update) and writes it with the
	// profile (Create, Update), in the same atomic step:
	//
	//   - When none is open, the update function may set a new request: the store inserts it
	//     (ErrResetRequestExists when its ID is taken by any request of any user).
	//   - It may change the open request in place, its ID kept: decide it (Status APPROVED or
	//     DECLINED, DecidedBy, DecidedAt) or edit its other fields. A decided request is
	//     stored with its final status and is no longer open: the record the store returns,
	//     and every later read, holds nil; ResetRequestStore still finds it by id and lists it.
	//   - It may not drop or replace an open request (nil, or a request with another ID):
	//     Update then returns ErrResetRequestOpen and writes nothing. Requests are decided,
	//     never deleted, and a user has at most one PENDING request, whatever the path.
	//
	// The request's UserID is always the profile's user.
	OpenResetRequest *ResetRequest
	// Outbox are the events to publish with this write: the store writes them to its
	// outbox in the same atomic step as the profile (Create, Update); records read back
	// hold none. The events of aggregate type AggregateProfile are the profile's audit
	// trail as well: the ProfileAuditLog of the adapter reads them (ProfileEvent makes one
	// from a ProfileAuditEvent).
	Outbox []LifecycleEvent
}

// Clone returns a deep copy of r, its open reset request and its events included.
func (r ProfileRecord) Clone() ProfileRecord {
	r.Profile = r.Profile.Clone()
	r.Documents = slices.Clone(r.Documents)
	r.MandatoryFields = slices.Clone(r.MandatoryFields)
	r.PendingFields = slices.Clone(r.PendingFields)
	if r.OpenResetRequest != nil {
		open := *r.OpenResetRequest
		r.OpenResetRequest = &open
	}
	r.Outbox = CloneLifecycleEvents(r.Outbox)
	return r
}

// Sentinel errors of the profile ports.
var (
	// ErrProfileNotFound: no profile for this user.
	ErrProfileNotFound = errors.New("profile not found")
	// ErrProfileExists: a profile for this user already exists.
	ErrProfileExists = errors.New("profile already exists")
	// ErrResetRequestNotFound: no such reset identification request.
	ErrResetRequestNotFound = errors.New("reset identification request not found")
	// ErrResetRequestExists: a reset identification request with this id already exists.
	ErrResetRequestExists = errors.New("reset identification request already exists")
	// ErrResetRequestOpen: the user already has a PENDING reset identification request (a
	// second one was asked for, or a profile update would drop or replace the open one).
	ErrResetRequestOpen = errors.New("the user already has an open reset identification request")
)

// ProfileStore stores profiles, one per user, as aggregates: a ProfileRecord with the user's
// open reset request (ProfileRecord.OpenResetRequest) and the events of each change
// (ProfileRecord.Outbox), which are its audit trail too. Every use case of the
// identification flow changes one profile aggregate in one Update, so the profile, the
// user's reset request and the event that reports the change are committed together or not
// at all, without a transaction shared between stores. The ResetRequestStore and
// ProfileAuditLog of the same adapter read what the ProfileStore writes; they have no writes
// of their own for the flows.
//
// Every method copies values in and out: a caller cannot change stored state through a
// returned or passed slice, map or pointer. Every method returns ctx.Err() when ctx is done
// before it starts.
//
// The domain never creates profiles: a host's profiles exist before the flow touches them.
// (The adapters' stores create them, for tests and demos: memory.ProfileStore.Create and
// postgres.ProfileStore.Create.)
type ProfileStore interface {
	// Get returns the profile of userID with its OpenResetRequest (Outbox empty), read in
	// one consistent step, or ErrProfileNotFound.
	Get(ctx context.Context, userID string) (ProfileRecord, error)
	// Update calls fn with a copy of the profile of userID, its OpenResetRequest loaded and
	// Outbox empty, while no other change of that user's profile can run (memory: a lock;
	// PostgreSQL: SELECT ... FOR UPDATE in a transaction), and stores what fn left in one
	// atomic step: the profile (except that UserID cannot change), the open request as the
	// rules of ProfileRecord.OpenResetRequest say, and the events of Outbox, in order.
	// Either all of it is stored or nothing is. If fn returns an error nothing is written
	// and that error is returned as it is; ErrResetRequestOpen and ErrResetRequestExists
	// also write nothing. It returns the stored record, as Get would now read it
	// (OpenResetRequest nil once decided, Outbox empty), or ErrProfileNotFound (fn is then
	// not called).
	Update(ctx context.Context, userID string, fn func(*ProfileRecord) error) (ProfileRecord, error)
}

// ResetRequestStatus is the status of a reset identification request (upper-case on the
// wire).
type ResetRequestStatus string

// The statuses of a reset identification request. PENDING is the only open status; the
// others are final.
const (
	ResetRequestPending  ResetRequestStatus = "PENDING"
	ResetRequestApproved ResetRequestStatus = "APPROVED"
	ResetRequestDeclined ResetRequestStatus = "DECLINED"
)

// ResetRequest is a user's request to have their identification reset, in the shape of the
// SDK.Finance API.
type ResetRequest struct {
	ID string `json:"id"`
	// UserID is the user whose identification is to be reset.
	UserID string `json:"userId"`
	// Description is the user's free text, e.g. why they ask.
	Description string `json:"description"`
	// OrganizationID is the user's organisation, copied from the profile.
	OrganizationID string             `json:"organizationId"`
	Status         ResetRequestStatus `json:"status"`
	// InitiatorUserID is who asked (the token subject of the asking user).
	InitiatorUserID string `json:"initiatorUserId"`
	// DecidedBy is the operator (token subject) who approved or declined it, if any.
	DecidedBy string    `json:"decidedBy,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// DecidedAt is when it was approved or declined, zero while PENDING.
	DecidedAt time.Time `json:"decidedAt,omitzero"`
}

// ResetRequestSortField names a field reset requests can be sorted by.
type ResetRequestSortField string

// The sortable fields of reset requests.
const (
	SortResetByOrganization ResetRequestSortField = "organizationId"
	SortResetByStatus       ResetRequestSortField = "status"
	SortResetByCreatedAt    ResetRequestSortField = "createdAt"
	SortResetByUserID       ResetRequestSortField = "userId"
)

// ResetRequestOrder is one sort key: a field and a direction.
type ResetRequestOrder struct {
	Field      ResetRequestSortField
	Descending bool
}

// ResetRequestQuery selects a page of reset requests.
type ResetRequestQuery struct {
	// Status keeps only requests of this status; "" keeps every status.
	Status ResetRequestStatus
	// OrganizationID keeps only requests of this organisation; "" keeps every one.
	OrganizationID string
	// Order sorts the requests by these keys in turn; ties (and an empty Order) are broken
	// by CreatedAt then ID, ascending, so pages are stable. Strings compare byte-wise
	// (PostgreSQL: COLLATE "C").
	Order []ResetRequestOrder
	// Offset is how many matching requests to skip; it may be past the end.
	Offset int
	// Limit is the most requests to return. With Limit below 1 (or Offset below 0), List
	// returns no records, only the total.
	Limit int
}

// ResetRequestStore reads reset identification requests. It has no writes: a request is
// created and decided through its user's profile (ProfileRecord.OpenResetRequest in
// ProfileStore.Update), under that profile's lock and in the same atomic step as the
// profile and the audit event of the change. An adapter hands out the ResetRequestStore
// that reads what its ProfileStore writes (memory: ProfileStore.ResetRequests; PostgreSQL:
// DB.ResetRequestStore). Every method copies values out and returns ctx.Err() when ctx is
// done before it starts.
//
// A user has at most one PENDING request: the identification flow checks it under the
// profile's lock, and the store keeps it on every write, atomically and across processes
// (PostgreSQL: a partial unique index on user_id WHERE status = 'PENDING').
type ResetRequestStore interface {
	// Get returns the request id, or ErrResetRequestNotFound.
	Get(ctx context.Context, id string) (ResetRequest, error)
	// List returns the requests q selects, sorted, from q.Offset, at most q.Limit of them,
	// and how many requests match the filters in all.
	List(ctx context.Context, q ResetRequestQuery) (records []ResetRequest, total int, err error)
}

// ProfileAuditAction names what a ProfileAuditEvent records.
type ProfileAuditAction string

// The actions the identification flow records.
const (
	AuditResetRequested          ProfileAuditAction = "reset_requested"
	AuditResetRequestApproved    ProfileAuditAction = "reset_request_approved"
	AuditResetRequestDeclined    ProfileAuditAction = "reset_request_declined"
	AuditIdentificationReset     ProfileAuditAction = "identification_reset"
	AuditIdentificationStatus    ProfileAuditAction = "identification_status_changed"
	AuditIdentificationSubmitted ProfileAuditAction = "identification_submitted"
)

// ProfileAuditEvent records one reset, decision or status change: who did what to whose
// profile, when, and with which fields.
type ProfileAuditEvent struct {
	ID     string             `json:"id"`
	Action ProfileAuditAction `json:"action"`
	// ActorID is the token subject of who acted.
	ActorID string `json:"actorId"`
	// UserID is the user whose profile or request it is about.
	UserID string `json:"userId"`
	// RequestID is the reset request involved, if any.
	RequestID string `json:"requestId,omitempty"`
	// Fields are the profile field paths involved (the mandatory fields of a reset).
	Fields []string `json:"fields,omitempty"`
	// From and To are the identification statuses before and after, when it changed.
	From IdentificationStatus `json:"from,omitempty"`
	To   IdentificationStatus `json:"to,omitempty"`
	At   time.Time            `json:"at"`
}

// Clone returns a deep copy of ev.
func (ev ProfileAuditEvent) Clone() ProfileAuditEvent {
	ev.Fields = slices.Clone(ev.Fields)
	return ev
}

// ProfileAuditLog is the audit trail of profiles, read from their lifecycle events: each
// ProfileAuditEvent is an event of aggregate type AggregateProfile (ProfileEvent makes one,
// ProfileAuditEventOf reads one back) that the ProfileStore wrote to its outbox in the atomic
// step that stores the change it reports (ProfileRecord.Outbox), so a change is never stored
// without its event, nor an event without its change. There is no other copy: the outbox is
// the only stored form, and outbox purges keep these events (AuditAggregateTypes). An adapter
// hands out the ProfileAuditLog that reads what its ProfileStore writes (memory:
// ProfileStore.AuditLog; PostgreSQL: DB.ProfileAuditLog). Methods copy values in and out and
// return ctx.Err() when ctx is done before they start.
type ProfileAuditLog interface {
	// Append records ev on its own, outside any profile change: for a host's own events. It
	// stores ProfileEvent(ev, "") in the outbox, to be dispatched like the flow's events
	// (an empty ID gets a fresh one). A field path with a comma is refused (a
	// KindInvalidInput error naming it, see ValidateProfileAuditEvent); nothing is stored.
	Append(ctx context.Context, ev ProfileAuditEvent) error
	// Events returns the events about userID ("" for every user) in the order they were
	// stored (PostgreSQL: by the outbox's sequence column, not by At, which several events
	// share).
	Events(ctx context.Context, userID string) ([]ProfileAuditEvent, error)
}

// AggregateProfile is the LifecycleEvent.AggregateType of profiles (AggregateID: the user's
// id). Their events are the audit trail: ProfileAuditLog reads them back.
const AggregateProfile = "profile"

// The types of the events of profiles, one for each audit action of the profile flow; an
// action of a host's own (ProfileAuditLog.Append) is the type "profile." + action.
const (
	EventProfileIdentificationReset         = "profile.identification_reset"
	EventProfileIdentificationSubmitted     = "profile.submitted"
	EventProfileIdentificationStatusChanged = "profile.identification_status_changed"
	EventProfileResetRequestCreated         = "profile.reset_request_created"
	EventProfileResetRequestApproved        = "profile.reset_request_approved"
	EventProfileResetRequestDeclined        = "profile.reset_request_declined"
)

// profileEventTypes maps the audit actions of the profile flow to their event types.
var profileEventTypes = map[ProfileAuditAction]string{
	AuditIdentificationReset:     EventProfileIdentificationReset,
	AuditIdentificationSubmitted: EventProfileIdentificationSubmitted,
	AuditIdentificationStatus:    EventProfileIdentificationStatusChanged,
	AuditResetRequested:          EventProfileResetRequestCreated,
	AuditResetRequestApproved:    EventProfileResetRequestApproved,
	AuditResetRequestDeclined:    EventProfileResetRequestDeclined,
}

// The keys of LifecycleEvent.Data that carry a ProfileAuditEvent.
const (
	profileDataAction    = "action"
	profileDataAuditID   = "audit_id"
	profileDataRequestID = "request_id"
	profileDataFields    = "fields"
	profileDataFrom      = "from"
	profileDataTo        = "to"
)

// ProfileEvent returns the lifecycle event that records a, a change of a profile of the
// organisation orgID: the type of a.Action (EventProfileIdentificationReset, ...; "profile."
// + the action for an action of a host's own), aggregate AggregateProfile and a.UserID, actor a.ActorID, time a.At, outcome succeeded,
// and in Data the action, the request id, the fields (joined with commas) and the statuses
// from and to, the ones that are set. Its ID is a.ID when that is a UUID in canonical form,
// else a fresh one, a.ID then kept in Data as "audit_id" (when set). ProfileAuditEventOf
// gives a back.
func ProfileEvent(a ProfileAuditEvent, orgID string) LifecycleEvent {
	typ, ok := profileEventTypes[a.Action]
	if !ok {
		typ = AggregateProfile + "." + string(a.Action)
	}
	ev := NewLifecycleEvent(typ, AggregateProfile, a.UserID, a.At)
	ev.OrgID, ev.Actor = orgID, a.ActorID
	ev.Data = map[string]string{profileDataAction: string(a.Action)}
	if id, err := uuid.Parse(a.ID); err == nil && id.String() == a.ID {
		ev.ID = a.ID
	} else if a.ID != "" {
		ev.Data[profileDataAuditID] = a.ID
	}
	if a.RequestID != "" {
		ev.Data[profileDataRequestID] = a.RequestID
	}
	if len(a.Fields) > 0 {
		ev.Data[profileDataFields] = strings.Join(a.Fields, ",")
	}
	if a.From != "" || a.To != "" {
		ev.Data[profileDataFrom], ev.Data[profileDataTo] = string(a.From), string(a.To)
	}
	return ev
}

// ProfileAuditEventOf returns the audit event that ev records, and whether ev is a profile
// event at all (AggregateType AggregateProfile). It reads what ProfileEvent writes; for a
// profile event stored before events carried their action, the action is that of its type.
func ProfileAuditEventOf(ev LifecycleEvent) (ProfileAuditEvent, bool) {
	if ev.AggregateType != AggregateProfile {
		return ProfileAuditEvent{}, false
	}
	a := ProfileAuditEvent{
		ID: cmp.Or(ev.Data[profileDataAuditID], ev.ID), Action: ProfileAuditAction(ev.Data[profileDataAction]),
		ActorID: ev.Actor, UserID: ev.AggregateID, RequestID: ev.Data[profileDataRequestID],
		From: IdentificationStatus(ev.Data[profileDataFrom]), To: IdentificationStatus(ev.Data[profileDataTo]), At: ev.Time,
	}
	if a.Action == "" {
		a.Action = ProfileAuditAction(strings.TrimPrefix(ev.Type, AggregateProfile+"."))
		for action, typ := range profileEventTypes {
			if typ == ev.Type {
				a.Action = action
			}
		}
	}
	if f := ev.Data[profileDataFields]; f != "" {
		a.Fields = strings.Split(f, ",")
	}
	return a, true
}

// ValidateProfileAuditEvent checks what ProfileEvent cannot carry: a field path with a
// comma (the fields are joined with commas). It returns a KindInvalidInput error naming
// each such field ("Fields[i]"), or nil.
func ValidateProfileAuditEvent(a ProfileAuditEvent) error {
	var v verifykit.Validation
	for i, f := range a.Fields {
		if strings.Contains(f, ",") {
			v.AddEntry(verifykit.InvalidEntry{Entry: "Fields[" + strconv.Itoa(i) + "]", EntryType: verifykit.EntryConfig,
				Rule: "format", Description: "must not hold a comma"})
		}
	}
	return v.Err()
}

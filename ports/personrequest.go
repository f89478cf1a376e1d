package ports

import (
	"context"
	"errors"
	"slices"
	"time"
)

// PersonRequestStatus is the life-cycle status of a person request.
type PersonRequestStatus string

// The statuses of a person request. NEW and APPROVED are open; the others are final.
const (
	// PersonRequestNew: created, waiting for the person's confirmation.
	PersonRequestNew PersonRequestStatus = "NEW"
	// PersonRequestApproved: the person confirmed it (with the code, or offline).
	PersonRequestApproved PersonRequestStatus = "APPROVED"
	// PersonRequestSigned: approved and signed; final.
	PersonRequestSigned PersonRequestStatus = "SIGNED"
	// PersonRequestRejected: rejected; final.
	PersonRequestRejected PersonRequestStatus = "REJECTED"
	// PersonRequestCancelled: cancelled; final.
	PersonRequestCancelled PersonRequestStatus = "CANCELLED"
	// PersonRequestExpired: its lifetime ran out while open; its personal data was wiped.
	PersonRequestExpired PersonRequestStatus = "EXPIRED"
)

// PersonRequestAuthMethod is one authentication method of a person.
type PersonRequestAuthMethod struct {
	// Type is the method's type.
	Type AuthMethodType
	// Alias names the method for its owner, e.g. "mother"; unique among the owner's
	// methods when not empty.
	Alias string
	// Phone is the E.164 phone number of an OTP method; empty for the other types.
	Phone string
	// Primary marks the owner's primary method; exactly one method is primary.
	Primary bool
}

// PersonRequestPerson is the personal data a person request carries, for the person or
// for the third person.
type PersonRequestPerson struct {
	// FirstName, LastName and SecondName are the person's names.
	FirstName  string
	LastName   string
	SecondName string
	// Documents are the person's identity documents.
	Documents []PersonDocument
	// AuthMethods are the person's authentication methods.
	AuthMethods []PersonRequestAuthMethod
}

// IsZero reports whether p holds no data at all (no names, documents or methods).
func (p PersonRequestPerson) IsZero() bool {
	return p.FirstName == "" && p.LastName == "" && p.SecondName == "" &&
		len(p.Documents) == 0 && len(p.AuthMethods) == 0
}

// Clone returns a deep copy of p.
func (p PersonRequestPerson) Clone() PersonRequestPerson {
	p.Documents = slices.Clone(p.Documents)
	p.AuthMethods = slices.Clone(p.AuthMethods)
	return p
}

// PersonRequestUpload is an upload URL issued for one document of a person request.
type PersonRequestUpload struct {
	// DocumentType is the owner-qualified document type: "person.PASSPORT" or
	// "third_person.PASSPORT".
	DocumentType string
	// URL is where the document is uploaded.
	URL string
	// ExpiresAt is when the URL stops being valid: at ExpiresAt it is already invalid.
	ExpiresAt time.Time
}

// PersonRequest is a stored person request.
type PersonRequest struct {
	// ID identifies the request (a UUID). It never changes.
	ID string
	// Status is the request's status.
	Status PersonRequestStatus
	// Person is the person whose record the request creates or updates.
	Person PersonRequestPerson
	// ThirdPerson is the person who confirms for Person through a THIRD_PERSON method; its
	// zero value means there is none.
	ThirdPerson PersonRequestPerson
	// CurrentAuthMethod is the index in Person.AuthMethods of the method the latest code
	// was sent through (or the primary at creation).
	CurrentAuthMethod int
	// Uploads are the upload URLs currently valid for the request's documents; every URL
	// issued earlier is invalid.
	Uploads []PersonRequestUpload
	// UploadVersion counts the generations of upload URLs; each new generation has a
	// higher version than the one it replaces.
	UploadVersion int
	// Verification holds the request's latest one-time code and its failed attempts: the
	// code, the current method it went through and the upload URLs change in one Update.
	Verification Verification
	// CreatedAt is when the request was created; the lifetime is counted from it.
	CreatedAt time.Time
	// UpdatedAt is when the request last changed.
	UpdatedAt time.Time
	// Outbox are the events to publish with this write: the store writes them to its
	// outbox in the same atomic step as the request (Create, Update) and never keeps them
	// in the request; records read back hold none.
	Outbox []LifecycleEvent
	// Version counts the stored changes of the request: Create stores 1, each Update the
	// version it read plus one, whatever the caller left in it. The store sets it as the
	// AggregateVersion of the Outbox events of the write that are about the request
	// (AggregateID == ID).
	Version int64
}

// Clone returns a deep copy of r: changing the copy's slices never changes r.
func (r PersonRequest) Clone() PersonRequest {
	r.Person = r.Person.Clone()
	r.ThirdPerson = r.ThirdPerson.Clone()
	r.Uploads = slices.Clone(r.Uploads)
	r.Verification = r.Verification.Clone()
	r.Outbox = CloneLifecycleEvents(r.Outbox)
	return r
}

// Errors of PersonRequestStore.
var (
	// ErrPersonRequestNotFound: no request has the id.
	ErrPersonRequestNotFound = errors.New("person request not found")
	// ErrPersonRequestExists: a request with the id already exists.
	ErrPersonRequestExists = errors.New("person request already exists")
)

// PersonRequestStore stores person requests, one aggregate per request. Every method is
// atomic with respect to the others for the same request, including across processes for
// shared stores. Values are copied in and out: a caller changing a slice of a value it
// passed or got never changes what is stored.
type PersonRequestStore interface {
	// Create stores req, whose ID must not be empty. It returns ErrPersonRequestExists
	// when a request with the same ID exists, and then changes nothing.
	Create(ctx context.Context, req PersonRequest) error

	// Get returns the request with the id, or ErrPersonRequestNotFound.
	Get(ctx context.Context, id string) (PersonRequest, error)

	// Update changes one request atomically: it locks the request (memory: a mutex;
	// PostgreSQL: SELECT ... FOR UPDATE in a transaction), calls fn with a copy of it, and,
	// when fn returns nil, stores the copy as fn left it and returns it. When fn returns an
	// error, nothing is written and that error is returned as is (not wrapped). The ID
	// cannot change: a change fn makes to it is ignored. No other Create or Update of the
	// same request runs between the read fn sees and the write. fn must do nothing but
	// change its argument; it must not call the store. It returns ErrPersonRequestNotFound
	// (without calling fn) when there is no such request.
	Update(ctx context.Context, id string, fn func(*PersonRequest) error) (PersonRequest, error)

	// ListCreatedBefore returns the ids of up to limit requests whose Status is one of
	// statuses and whose CreatedAt is strictly before before, oldest CreatedAt first (ties
	// by ID ascending). limit < 1 returns nothing. Expiry sweeps use it, then move each
	// request with Update.
	ListCreatedBefore(ctx context.Context, statuses []PersonRequestStatus, before time.Time, limit int) ([]string, error)
}

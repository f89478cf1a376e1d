package ports

import (
	"context"
	"errors"
	"time"
)

// PersonDocument is one document a person holds.
type PersonDocument struct {
	// Type is the document type, e.g. "PASSPORT" or "MARRIAGE_CERTIFICATE".
	Type string
	// Number is the document number. It is personal data: never log it.
	Number string
}

// PersonRecord is a stored person, as the authentication-method rules see it.
type PersonRecord struct {
	// ID identifies the person. Required, unique in the store.
	ID string
	// BirthDate is a calendar date: only its year, month and day (read in BirthDate's own
	// location) are meaningful. Stores keep the date and give it back as midnight UTC of
	// that date (a SQL DATE column).
	BirthDate time.Time
	// Status is the person's record status, e.g. "active".
	Status string
	// IsActive is false for a person whose record was merged or deleted.
	IsActive bool
	// VerificationStatus is e.g. "VERIFIED" or "NOT_VERIFIED".
	VerificationStatus string
	// Documents are the person's documents, in the order given.
	Documents []PersonDocument
}

// AuthMethodType is the type of an authentication method: of a person request's person
// (PersonRequestAuthMethod), and of a person's stored methods (AuthMethodRecord) alike.
type AuthMethodType string

// The types of authentication method.
const (
	// AuthMethodOTP: a one-time code sent by SMS to the method's phone.
	AuthMethodOTP AuthMethodType = "OTP"
	// AuthMethodOffline: the person shows documents in person.
	AuthMethodOffline AuthMethodType = "OFFLINE"
	// AuthMethodThirdPerson: another person (PersonRequest.ThirdPerson; for a stored
	// method, the person named by its Value) confirms with an authentication method of
	// their own.
	AuthMethodThirdPerson AuthMethodType = "THIRD_PERSON"
	// AuthMethodNA: no authentication method applies.
	AuthMethodNA AuthMethodType = "NA"
)

// AuthMethodRecord is one authentication method of a person.
type AuthMethodRecord struct {
	// ID identifies the method. Required, unique across every person of the store.
	ID string
	// PersonID is the person the method belongs to. Required.
	PersonID string
	// Type is "OTP", "OFFLINE", "THIRD_PERSON" or "NA" (the AuthMethodType constants).
	Type AuthMethodType
	// Alias is the name the person gave the method; may be empty.
	Alias string
	// Phone is the phone number of an OTP method (E.164); empty for others. Never log it
	// in full.
	Phone string
	// Value is the method's value: for a THIRD_PERSON method, the third person's id.
	Value string
	// StartedAt is when the method was added.
	StartedAt time.Time
	// EndedAt is when the method stops (or stopped) being usable; zero when it has no end.
	EndedAt time.Time
	// IsActive is false once the method has been deactivated.
	IsActive bool
	// IsPrimary marks the person's primary method.
	IsPrimary bool
	// Version counts the stored changes of the method: an adapter's AddAuthMethod stores 1,
	// and an UpdateAuthMethods that changes the method's values one more (whatever the
	// caller left in it). The store sets it as the AggregateVersion of the method's Outbox
	// events.
	Version int64
	// Outbox are the events to publish with this write of the method (UpdateAuthMethods;
	// an adapter's AddAuthMethod ignores it): the store writes them to its outbox in the
	// same atomic step and never keeps them; methods read back hold none.
	Outbox []LifecycleEvent
}

// Clone returns a deep copy of m.
func (m AuthMethodRecord) Clone() AuthMethodRecord {
	m.Outbox = CloneLifecycleEvents(m.Outbox)
	return m
}

// ConfidantRelationship says that ConfidantPersonID may act for PersonID (a parent for a
// child, a guardian for a ward).
type ConfidantRelationship struct {
	// ID identifies the relationship. Required, unique in the store.
	ID string
	// PersonID is the person who is represented. Required.
	PersonID string
	// ConfidantPersonID is the person who may act for PersonID. Required.
	ConfidantPersonID string
	// VerificationStatus is "VERIFIED", "VERIFICATION_NEEDED", "NOT_VERIFIED",
	// "IN_REVIEW" or "CHANGES_NEEDED".
	VerificationStatus string
	// IsActive is false once the relationship has been ended.
	IsActive bool
	// ActiveTo is when the relationship stops being valid; zero when it has no end.
	ActiveTo time.Time
}

// Sentinel errors of the person, authentication-method and confidant stores. Stores return
// them as is or wrapped (errors.Is must match).
var (
	// ErrPersonNotFound: no person has the id.
	ErrPersonNotFound = errors.New("person not found")
	// ErrPersonExists: an adapter's CreatePerson was given an id that is already stored.
	ErrPersonExists = errors.New("person already exists")
	// ErrAuthMethodExists: an adapter's AddAuthMethod was given an id that is already
	// stored, for any person.
	ErrAuthMethodExists = errors.New("authentication method already exists")
	// ErrAuthMethodNotFound: AuthMethod was given an id that is not stored.
	ErrAuthMethodNotFound = errors.New("authentication method not found")
	// ErrAuthMethodImmutable: the function given to UpdateAuthMethods changed the ID or the
	// PersonID of a method.
	ErrAuthMethodImmutable = errors.New("the id and person id of an authentication method cannot change")
	// ErrConfidantRelationshipNotFound: no confidant relationship has the id.
	ErrConfidantRelationshipNotFound = errors.New("confidant relationship not found")
	// ErrConfidantRelationshipExists: an adapter's AddConfidantRelationship was given an
	// id that is already stored.
	ErrConfidantRelationshipExists = errors.New("confidant relationship already exists")
)

// PersonStore reads persons: the domain only reads them, so a host wrapping a person
// database of its own implements Person alone. (The adapters' stores also write them, for
// tests and demos: memory.PersonStore and postgres.PersonStore have CreatePerson and
// UpdatePerson.) Person copies values out: a caller cannot change stored state through the
// slices of a record it received.
type PersonStore interface {
	// Person returns the person id, or ErrPersonNotFound.
	Person(ctx context.Context, id string) (PersonRecord, error)
}

// AuthMethodStore stores the authentication methods of persons. A person's methods form one
// unit of consistency: UpdateAuthMethods reads and writes all of them in one atomic step,
// so a rule about the whole set ("the person keeps another active method") cannot be
// broken by concurrent changes. A shared store (PostgreSQL) gives the same guarantee
// across processes, e.g. by locking the person's method rows (SELECT ... FOR UPDATE, or an
// advisory lock on the person id) for the length of a transaction.
//
// Methods are listed in the order they were added (by the adapters' AddAuthMethod, which
// the domain never calls: memory.AuthMethodStore and postgres.AuthMethodStore have it),
// which is the order ties between equal StartedAt values are broken by. Every method copies
// values in and out.
type AuthMethodStore interface {
	// AuthMethod returns the method whose id is id, whoever it belongs to, or
	// ErrAuthMethodNotFound.
	AuthMethod(ctx context.Context, id string) (AuthMethodRecord, error)

	// AuthMethods returns the methods of the person, in the order they were added; an
	// empty slice (not an error) when the person has none or is unknown.
	AuthMethods(ctx context.Context, personID string) ([]AuthMethodRecord, error)

	// UpdateAuthMethods atomically reads the methods of the person (in the order they were
	// added; possibly none), calls fn with them, and stores every method as fn left it,
	// then returns the methods as stored. fn changes fields of the elements in place; it
	// cannot add or remove methods. When fn returns an error nothing is written and that
	// error is returned as is. When fn changed the ID or PersonID of a method, nothing is
	// written and the store returns an error wrapping ErrAuthMethodImmutable. fn must not
	// call the store. While fn runs, no other change of the same person's methods
	// proceeds (an adapter's AddAuthMethod included).
	UpdateAuthMethods(ctx context.Context, personID string, fn func(methods []AuthMethodRecord) error) ([]AuthMethodRecord, error)
}

// ConfidantStore reads confidant relationships, which the domain never writes. (The
// adapters' stores also write them, for tests and demos: memory.ConfidantStore and
// postgres.ConfidantStore have AddConfidantRelationship and UpdateConfidantRelationship.)
// ConfidantRelationships copies values out.
type ConfidantStore interface {
	// ConfidantRelationships returns every stored relationship whose PersonID is personID
	// (whatever its status or activity), in the order they were added; an empty slice
	// when there is none.
	ConfidantRelationships(ctx context.Context, personID string) ([]ConfidantRelationship, error)
}

// SameAuthMethod reports whether a and b hold the same values, their Version and Outbox
// aside: whether a write of a over b changes the method.
func SameAuthMethod(a, b AuthMethodRecord) bool {
	return a.ID == b.ID && a.PersonID == b.PersonID && a.Type == b.Type && a.Alias == b.Alias && a.Phone == b.Phone &&
		a.Value == b.Value && a.StartedAt.Equal(b.StartedAt) && a.EndedAt.Equal(b.EndedAt) && a.IsActive == b.IsActive &&
		a.IsPrimary == b.IsPrimary
}

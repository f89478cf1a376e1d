package porttest

import (
	"context"

	"github.com/verifykit/verifykit/ports"
)

// The suites store what the domain only reads (persons, their methods and relationships,
// profiles) with a seeding method of the store's own: the ports leave writes the domain
// never makes to the adapters, so a host wrapping a database of its own implements only
// what the domain calls. The stores of adapters/memory and adapters/postgres are all of
// these; a host's store can pass its suite with a seeding method that writes straight to
// its database.

// SeedablePersonStore is what RunPersonStore checks: a ports.PersonStore that CreatePerson
// seeds.
type SeedablePersonStore interface {
	ports.PersonStore
	// CreatePerson stores p; ports.ErrPersonExists, writing nothing, when p.ID is stored.
	CreatePerson(ctx context.Context, p ports.PersonRecord) error
}

// SeedableAuthMethodStore is what RunAuthMethodStore checks: a ports.AuthMethodStore that
// AddAuthMethod seeds.
type SeedableAuthMethodStore interface {
	ports.AuthMethodStore
	// AddAuthMethod stores m as a method of m.PersonID, after the person's other methods,
	// serialised with UpdateAuthMethods of the same person; ports.ErrAuthMethodExists,
	// writing nothing, when m.ID is stored for any person.
	AddAuthMethod(ctx context.Context, m ports.AuthMethodRecord) error
}

// SeedableConfidantStore is what RunConfidantStore checks: a ports.ConfidantStore that
// AddConfidantRelationship seeds.
type SeedableConfidantStore interface {
	ports.ConfidantStore
	// AddConfidantRelationship stores r; ports.ErrConfidantRelationshipExists, writing
	// nothing, when r.ID is stored.
	AddConfidantRelationship(ctx context.Context, r ports.ConfidantRelationship) error
}

// SeedableProfileStore is the ports.ProfileStore of ProfileStores, which Create seeds.
type SeedableProfileStore interface {
	ports.ProfileStore
	// Create stores rec under rec.UserID, with rec.OpenResetRequest when set and the events
	// of rec.Outbox, all of it or nothing: ports.ErrProfileExists when the user has a
	// profile, ports.ErrResetRequestExists when the request's ID is taken,
	// ports.ErrResetRequestOpen when the request is PENDING and the user has a PENDING
	// request already.
	Create(ctx context.Context, rec ports.ProfileRecord) error
}

// Methods of the adapters' stores that the domain never calls: a suite checks them when
// its Features say the store has them (Features.PersonUpdate, ...), and skips those cases
// otherwise.
type (
	// PersonUpdater is an adapter's UpdatePerson: it atomically reads the person id,
	// calls fn with it and stores what fn left (keeping the ID), then returns the stored
	// record; fn's error writes nothing and comes back as is; ports.ErrPersonNotFound, fn
	// not called, when there is no such person.
	PersonUpdater interface {
		UpdatePerson(ctx context.Context, id string, fn func(*ports.PersonRecord) error) (ports.PersonRecord, error)
	}
	// ConfidantUpdater is an adapter's UpdateConfidantRelationship, UpdatePerson's
	// counterpart for relationships (keeping ID and PersonID;
	// ports.ErrConfidantRelationshipNotFound).
	ConfidantUpdater interface {
		UpdateConfidantRelationship(ctx context.Context, id string, fn func(*ports.ConfidantRelationship) error) (ports.ConfidantRelationship, error)
	}
	// ProcessDeleter is an adapter's ProcessStore.Delete: it locks the process id of
	// orgID, calls check with it (a nil check passes) and deletes it in the same atomic
	// step when check returns nil; check's error deletes nothing and comes back as is;
	// ports.ErrProcessNotFound, check not called, when there is no such process. It writes
	// no event (the flows delete with ProcessStore.Update and ProcessRecord.Deleted).
	ProcessDeleter interface {
		Delete(ctx context.Context, orgID, id string, check func(ports.ProcessRecord) error) error
	}
	// ResetRequestOpener is an adapter's ResetRequestStore.Open: it returns the PENDING
	// reset request of userID, or ports.ErrResetRequestNotFound.
	ResetRequestOpener interface {
		Open(ctx context.Context, userID string) (ports.ResetRequest, error)
	}
)

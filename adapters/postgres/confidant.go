package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verifykit/verifykit/ports"
)

// ConfidantStore is a ports.ConfidantStore in PostgreSQL (table confidant_relationships).
// UpdateConfidantRelationship selects the relationship FOR UPDATE in a transaction.
type ConfidantStore struct {
	db *DB

	qInsert, qList, qLock, qUpdate string
}

// confidantColumns are the columns scanConfidant reads, in its order.
const confidantColumns = "id, person_id, confidant_person_id, verification_status, is_active, active_to"

func newConfidantStore(db *DB) *ConfidantStore {
	t := db.table("confidant_relationships")
	return &ConfidantStore{
		db: db,
		qInsert: "insert into " + t + " (" + confidantColumns + ") values ($1, $2, $3, $4, $5, $6)" +
			" on conflict (id) do nothing",
		qList:   "select " + confidantColumns + " from " + t + " where person_id = $1 order by seq",
		qLock:   "select " + confidantColumns + " from " + t + " where id = $1 for update",
		qUpdate: "update " + t + " set confidant_person_id = $3, verification_status = $4, is_active = $5, active_to = $6 where id = $1 and person_id = $2",
	}
}

func confidantArgs(r *ports.ConfidantRelationship) []any {
	return []any{r.ID, r.PersonID, r.ConfidantPersonID, r.VerificationStatus, r.IsActive, optTime(r.ActiveTo)}
}

func scanConfidant(row pgx.Row, r *ports.ConfidantRelationship) error {
	var activeTo *time.Time
	err := row.Scan(&r.ID, &r.PersonID, &r.ConfidantPersonID, &r.VerificationStatus, &r.IsActive, &activeTo)
	r.ActiveTo = dbTime(fromOptTime(activeTo))
	return err
}

// AddConfidantRelationship stores r, for tests and demos (the domain never writes
// relationships). It returns ports.ErrConfidantRelationshipExists, writing nothing, when
// r.ID is stored.
func (s *ConfidantStore) AddConfidantRelationship(ctx context.Context, r ports.ConfidantRelationship) error {
	return s.db.insertNew(ctx, ports.ErrConfidantRelationshipExists, s.qInsert, confidantArgs(&r)...)
}

// ConfidantRelationships implements ports.ConfidantStore.
func (s *ConfidantStore) ConfidantRelationships(ctx context.Context, personID string) ([]ports.ConfidantRelationship, error) {
	return queryRows(ctx, s.db, s.qList, []any{personID}, scanConfidant)
}

// UpdateConfidantRelationship runs fn on the relationship id and stores what it left (its
// ID and PersonID kept), as the memory adapter's does: the relationship is selected FOR
// UPDATE in a transaction, fn runs while it is locked, and what fn left is written with the
// commit. The domain never calls it.
func (s *ConfidantStore) UpdateConfidantRelationship(ctx context.Context, id string, fn func(*ports.ConfidantRelationship) error) (ports.ConfidantRelationship, error) {
	var personID string
	return updateLocked(ctx, s.db, s.qLock, []any{id}, scanConfidant, ports.ErrConfidantRelationshipNotFound,
		func(r *ports.ConfidantRelationship) error {
			personID = r.PersonID
			return fn(r)
		},
		func(b *pgx.Batch, r *ports.ConfidantRelationship) {
			r.ID, r.PersonID = id, personID
			r.ActiveTo = dbTime(r.ActiveTo)
			b.Queue(s.qUpdate, confidantArgs(r)...)
		})
}

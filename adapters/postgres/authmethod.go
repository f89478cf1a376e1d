package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/verifykit/verifykit/ports"
)

// PersonStore is a ports.PersonStore in PostgreSQL (table persons). The birth date is a DATE
// column (the date of BirthDate in its own location, given back as midnight UTC); documents
// are jsonb. UpdatePerson selects the person FOR UPDATE in a transaction.
type PersonStore struct {
	db *DB

	qInsert, qGet, qLock, qUpdate string
}

// personColumns are the columns scanPerson reads and personArgs writes, in their order.
const personColumns = "id, birth_date, status, is_active, verification_status, documents"

func newPersonStore(db *DB) *PersonStore {
	t := db.table("persons")
	return &PersonStore{
		db:      db,
		qInsert: "insert into " + t + " (" + personColumns + ") values ($1, $2, $3, $4, $5, $6) on conflict (id) do nothing",
		qGet:    "select " + personColumns + " from " + t + " where id = $1",
		qLock:   "select " + personColumns + " from " + t + " where id = $1 for update",
		qUpdate: "update " + t + " set birth_date = $2, status = $3, is_active = $4, verification_status = $5, documents = $6 where id = $1",
	}
}

// birthDate is the DATE of t: its year, month and day in t's own location.
func birthDate(t time.Time) pgtype.Date {
	y, m, d := t.Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}

func personArgs(p *ports.PersonRecord) []any {
	return []any{p.ID, birthDate(p.BirthDate), p.Status, p.IsActive, p.VerificationStatus, jsonArray(p.Documents)}
}

func scanPerson(row pgx.Row, p *ports.PersonRecord) error {
	var born pgtype.Date
	err := row.Scan(&p.ID, &born, &p.Status, &p.IsActive, &p.VerificationStatus, &p.Documents)
	p.BirthDate = birthDate(born.Time).Time
	return err
}

// CreatePerson implements ports.PersonStore.
func (s *PersonStore) CreatePerson(ctx context.Context, p ports.PersonRecord) error {
	return s.db.insertNew(ctx, ports.ErrPersonExists, s.qInsert, personArgs(&p)...)
}

// Person implements ports.PersonStore.
func (s *PersonStore) Person(ctx context.Context, id string) (ports.PersonRecord, error) {
	return queryRow(ctx, s.db, s.qGet, []any{id}, scanPerson, ports.ErrPersonNotFound)
}

// UpdatePerson implements ports.PersonStore: the person is selected FOR UPDATE in a
// transaction, fn runs while it is locked, and what fn left is written with the commit.
func (s *PersonStore) UpdatePerson(ctx context.Context, id string, fn func(*ports.PersonRecord) error) (ports.PersonRecord, error) {
	return updateLocked(ctx, s.db, s.qLock, []any{id}, scanPerson, ports.ErrPersonNotFound, fn,
		func(b *pgx.Batch, p *ports.PersonRecord) {
			p.ID = id
			p.BirthDate = birthDate(p.BirthDate).Time
			b.Queue(s.qUpdate, personArgs(p)...)
		})
}

// AuthMethodStore is a ports.AuthMethodStore in PostgreSQL (table auth_methods). The
// methods of one person are one unit: AddAuthMethod and UpdateAuthMethods take the
// transaction-scoped advisory lock of the person first, so they are serialised across every
// connection of every instance, even for a person with no method yet (whose rows a SELECT
// ... FOR UPDATE could not lock). UpdateAuthMethods costs two round trips: the lock and the
// read, then every changed method's UPDATE with the commit.
type AuthMethodStore struct {
	db *DB

	qInsert, qGet, qList, qUpdate string
}

// authMethodColumns are the columns scanAuthMethod reads, in its order.
const authMethodColumns = "id, person_id, type, alias, phone, value, started_at, ended_at, is_active, is_primary, version"

func newAuthMethodStore(db *DB) *AuthMethodStore {
	t := db.table("auth_methods")
	return &AuthMethodStore{
		db: db,
		qInsert: "insert into " + t + " (" + authMethodColumns + ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1)" +
			" on conflict (id) do nothing",
		qGet:  "select " + authMethodColumns + " from " + t + " where id = $1",
		qList: "select " + authMethodColumns + " from " + t + " where person_id = $1 order by seq",
		qUpdate: "update " + t + " set type = $2, alias = $3, phone = $4, value = $5, started_at = $6, ended_at = $7," +
			" is_active = $8, is_primary = $9, version = $10 where id = $1",
	}
}

// personLock is the advisory lock key of the methods of a person.
func (s *AuthMethodStore) personLock(personID string) int64 {
	return s.db.lockKey("auth_methods", personID)
}

func scanAuthMethod(row pgx.Row, m *ports.AuthMethodRecord) error {
	var ended *time.Time
	err := row.Scan(&m.ID, &m.PersonID, &m.Type, &m.Alias, &m.Phone, &m.Value, &m.StartedAt, &ended, &m.IsActive, &m.IsPrimary, &m.Version)
	m.StartedAt, m.EndedAt = dbTime(m.StartedAt), dbTime(fromOptTime(ended))
	return err
}

// AddAuthMethod implements ports.AuthMethodStore: the advisory lock of the person and the
// INSERT, in one round trip and one transaction.
func (s *AuthMethodStore) AddAuthMethod(ctx context.Context, m ports.AuthMethodRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	inserted := false
	b := &pgx.Batch{}
	b.Queue(lockSQL, s.personLock(m.PersonID))
	b.Queue(s.qInsert, m.ID, m.PersonID, m.Type, m.Alias, m.Phone, m.Value, m.StartedAt, optTime(m.EndedAt), m.IsActive, m.IsPrimary).
		Exec(func(ct pgconn.CommandTag) error {
			inserted = ct.RowsAffected() == 1
			return nil
		})
	if err := s.db.sendBatch(ctx, b); err != nil {
		return err
	}
	if !inserted {
		return ports.ErrAuthMethodExists
	}
	return nil
}

// AuthMethod implements ports.AuthMethodStore.
func (s *AuthMethodStore) AuthMethod(ctx context.Context, id string) (ports.AuthMethodRecord, error) {
	return queryRow(ctx, s.db, s.qGet, []any{id}, scanAuthMethod, ports.ErrAuthMethodNotFound)
}

// AuthMethods implements ports.AuthMethodStore.
func (s *AuthMethodStore) AuthMethods(ctx context.Context, personID string) ([]ports.AuthMethodRecord, error) {
	return queryRows(ctx, s.db, s.qList, []any{personID}, scanAuthMethod)
}

// UpdateAuthMethods implements ports.AuthMethodStore. Only the methods fn changed are
// written.
func (s *AuthMethodStore) UpdateAuthMethods(ctx context.Context, personID string, fn func([]ports.AuthMethodRecord) error) ([]ports.AuthMethodRecord, error) {
	var before []ports.AuthMethodRecord
	read := &pgx.Batch{}
	read.Queue(lockSQL, s.personLock(personID))
	read.Queue(s.qList, personID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var m ports.AuthMethodRecord
			if err := scanAuthMethod(rows, &m); err != nil {
				return err
			}
			before = append(before, m)
		}
		return rows.Err()
	})
	return lockedChange(ctx, s.db, read,
		func() ([]ports.AuthMethodRecord, error) {
			return append([]ports.AuthMethodRecord{}, before...), nil // a copy: before stays as read
		},
		func(ms *[]ports.AuthMethodRecord) error { return fn(*ms) },
		func(b *pgx.Batch, ms *[]ports.AuthMethodRecord) error {
			for i := range *ms {
				m := &(*ms)[i]
				if m.ID != before[i].ID || m.PersonID != before[i].PersonID {
					return fmt.Errorf("postgres: method %d of person %q: %w", i, personID, ports.ErrAuthMethodImmutable)
				}
				m.StartedAt, m.EndedAt = dbTime(m.StartedAt), dbTime(m.EndedAt)
				changed := !ports.SameAuthMethod(*m, before[i])
				m.Version = before[i].Version
				if changed {
					m.Version++
				}
				ports.StampVersion(m.Outbox, m.ID, m.Version)
				s.db.outbox.queue(b, m.Outbox)
				m.Outbox = nil
				if !changed {
					continue
				}
				b.Queue(s.qUpdate, m.ID, m.Type, m.Alias, m.Phone, m.Value, m.StartedAt, optTime(m.EndedAt), m.IsActive, m.IsPrimary, m.Version)
			}
			return nil
		})
}

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

// AddConfidantRelationship implements ports.ConfidantStore.
func (s *ConfidantStore) AddConfidantRelationship(ctx context.Context, r ports.ConfidantRelationship) error {
	return s.db.insertNew(ctx, ports.ErrConfidantRelationshipExists, s.qInsert, confidantArgs(&r)...)
}

// ConfidantRelationships implements ports.ConfidantStore.
func (s *ConfidantStore) ConfidantRelationships(ctx context.Context, personID string) ([]ports.ConfidantRelationship, error) {
	return queryRows(ctx, s.db, s.qList, []any{personID}, scanConfidant)
}

// UpdateConfidantRelationship implements ports.ConfidantStore: the relationship is selected
// FOR UPDATE in a transaction, fn runs while it is locked, and what fn left is written with
// the commit.
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

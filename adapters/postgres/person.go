package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
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

// CreatePerson stores p, for tests and demos (the domain only reads persons;
// porttest.SeedablePersonStore). It returns ports.ErrPersonExists, writing nothing, when
// p.ID is stored.
func (s *PersonStore) CreatePerson(ctx context.Context, p ports.PersonRecord) error {
	return s.db.insertNew(ctx, ports.ErrPersonExists, s.qInsert, personArgs(&p)...)
}

// Person implements ports.PersonStore.
func (s *PersonStore) Person(ctx context.Context, id string) (ports.PersonRecord, error) {
	return queryRow(ctx, s.db, s.qGet, []any{id}, scanPerson, ports.ErrPersonNotFound)
}

// UpdatePerson runs fn on the person id and stores what it left (its ID kept), as the
// memory adapter's does: the person is selected FOR UPDATE in a transaction, fn runs while
// it is locked, and what fn left is written with the commit. The domain never calls it.
func (s *PersonStore) UpdatePerson(ctx context.Context, id string, fn func(*ports.PersonRecord) error) (ports.PersonRecord, error) {
	return updateLocked(ctx, s.db, s.qLock, []any{id}, scanPerson, ports.ErrPersonNotFound, fn,
		func(b *pgx.Batch, p *ports.PersonRecord) {
			p.ID = id
			p.BirthDate = birthDate(p.BirthDate).Time
			b.Queue(s.qUpdate, personArgs(p)...)
		})
}

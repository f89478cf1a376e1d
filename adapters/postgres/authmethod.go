package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/verifykit/verifykit/ports"
)

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

// AddAuthMethod stores m as a method of m.PersonID, for tests and demos (the domain never
// adds methods; porttest.SeedableAuthMethodStore): the advisory lock of the person and the
// INSERT, in one round trip and one transaction. It returns ports.ErrAuthMethodExists,
// writing nothing, when m.ID is stored for any person.
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

package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verifykit/verifykit/ports"
)

// PersonRequestStore is a ports.PersonRequestStore in PostgreSQL (table person_requests).
// The person, the third person, the upload URLs and the Verification (the request's latest
// code and failures, see verificationJSON) are jsonb; status and created_at are columns with
// an index for the expiry sweeps. Update selects the request FOR UPDATE in a transaction, so
// every change of one request, its code included, is serialised across instances and written
// in one statement with the commit.
type PersonRequestStore struct {
	db *DB

	qInsert, qGet, qLock, qUpdate, qCreatedBefore string
}

// personRequestColumns are the columns scanPersonRequest reads and personRequestArgs
// writes, in their order.
const personRequestColumns = "id, status, person, third_person, current_auth_method, uploads, upload_version," +
	" verification, created_at, updated_at, version"

func newPersonRequestStore(db *DB) *PersonRequestStore {
	t := db.table("person_requests")
	return &PersonRequestStore{
		db: db,
		qInsert: "insert into " + t + " (" + personRequestColumns + ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)" +
			" on conflict (id) do nothing",
		qGet:  "select " + personRequestColumns + " from " + t + " where id = $1",
		qLock: "select " + personRequestColumns + " from " + t + " where id = $1 for update",
		qUpdate: "update " + t + " set status = $2, person = $3, third_person = $4, current_auth_method = $5, uploads = $6," +
			" upload_version = $7, verification = $8, created_at = $9, updated_at = $10, version = $11 where id = $1",
		qCreatedBefore: "select id from " + t + " where status = any($1) and created_at < $2 order by created_at, id limit $3",
	}
}

func personRequestArgs(r *ports.PersonRequest) []any {
	return []any{r.ID, string(r.Status), r.Person, r.ThirdPerson, r.CurrentAuthMethod, jsonArray(r.Uploads), r.UploadVersion,
		toVerificationJSON(r.Verification), r.CreatedAt, r.UpdatedAt, r.Version}
}

func scanPersonRequest(row pgx.Row, r *ports.PersonRequest) error {
	var v verificationJSON
	err := row.Scan(&r.ID, &r.Status, &r.Person, &r.ThirdPerson, &r.CurrentAuthMethod, &r.Uploads, &r.UploadVersion,
		&v, &r.CreatedAt, &r.UpdatedAt, &r.Version)
	r.Verification = v.verification()
	return err
}

// Create implements ports.PersonRequestStore.
func (s *PersonRequestStore) Create(ctx context.Context, req ports.PersonRequest) error {
	req.Version = 1
	req.Outbox = ports.CloneLifecycleEvents(req.Outbox) // stamped: the caller's slice stays as it is
	ports.StampVersion(req.Outbox, req.ID, req.Version)
	return s.db.insertNewWithEvents(ctx, ports.ErrPersonRequestExists, req.Outbox, s.qInsert, personRequestArgs(&req)...)
}

// Get implements ports.PersonRequestStore.
func (s *PersonRequestStore) Get(ctx context.Context, id string) (ports.PersonRequest, error) {
	return queryRow(ctx, s.db, s.qGet, []any{id}, scanPersonRequest, ports.ErrPersonRequestNotFound)
}

// Update implements ports.PersonRequestStore: the request is selected FOR UPDATE in a
// transaction, fn runs while it is locked, and what fn left is written with the commit.
func (s *PersonRequestStore) Update(ctx context.Context, id string, fn func(*ports.PersonRequest) error) (ports.PersonRequest, error) {
	var version int64
	return updateLocked(ctx, s.db, s.qLock, []any{id}, scanPersonRequest, ports.ErrPersonRequestNotFound,
		func(r *ports.PersonRequest) error { version = r.Version + 1; return fn(r) },
		func(b *pgx.Batch, r *ports.PersonRequest) {
			r.ID, r.Version = id, version
			ports.StampVersion(r.Outbox, id, version)
			b.Queue(s.qUpdate, personRequestArgs(r)...)
			s.db.outbox.queue(b, r.Outbox)
			r.Outbox = nil
		})
}

// ListCreatedBefore implements ports.PersonRequestStore with one indexed query of at most
// limit ids, so a sweep works off a backlog in bounded batches.
func (s *PersonRequestStore) ListCreatedBefore(ctx context.Context, statuses []ports.PersonRequestStatus, before time.Time, limit int) ([]string, error) {
	if limit < 1 || len(statuses) == 0 {
		return nil, ctx.Err()
	}
	sts := make([]string, len(statuses))
	for i, st := range statuses {
		sts[i] = string(st)
	}
	return queryRows(ctx, s.db, s.qCreatedBefore, []any{sts, before, limit}, func(row pgx.Row, id *string) error {
		return row.Scan(id)
	})
}

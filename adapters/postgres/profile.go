package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verifykit/verifykit/ports"
)

// ProfileStore is a ports.ProfileStore in PostgreSQL: it writes the profile aggregates,
// each a row of profiles with the user's reset requests (table reset_requests) and the
// events of each change (table outbox, which ProfileAuditLog reads). The profile and its
// documents are stored as jsonb; the organisation and the identification status are real
// columns as well, for hosts that query them.
//
// Update is one transaction of two round trips: the first begins it, selects the profile
// FOR UPDATE and then, in a statement of its own, the user's PENDING request; the second
// writes the profile, inserts or updates the request fn touched, inserts fn's events in
// order, and commits. Updates of one user are serialised across instances by the lock of
// the profile row, which every write of the user's requests and events holds; the partial
// unique index on the PENDING requests keeps one open request per user on top of it.
// Create and Get are one round trip each: Create inserts the profile, its request and its
// events in one implicit transaction; Get reads the profile and its open request in one
// statement.
type ProfileStore struct {
	db *DB

	qInsert, qGet, qLock, qOpen, qUpdate, qInsertRequest, qUpdateRequest string
}

// profileColumns are the columns scanProfile reads, in its order.
const profileColumns = "user_id, organization_id, profile, documents, mandatory_fields, pending_fields, reset_at, reset_by, created_at, updated_at, version"

// openRequestColumns are the columns of a reset request that scanProfileWithOpen reads after
// the profile's, in its order (the user id is the profile's).
const openRequestColumns = "id, description, organization_id, status, initiator_user_id, decided_by, created_at, decided_at"

// The unique indexes of the profile aggregate whose violations are answers, not failures.
const (
	profilesPrimaryKey      = "profiles_pkey"
	resetRequestsPrimaryKey = "reset_requests_pkey"
)

// qualified returns the comma-separated columns each prefixed with alias and a dot.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

func newProfileStore(db *DB) *ProfileStore {
	t, rt := db.table("profiles"), db.table("reset_requests")
	return &ProfileStore{
		db:      db,
		qInsert: "insert into " + t + " (" + profileColumns + ", status) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		qGet: "select " + qualified("p", profileColumns) + ", " + qualified("r", openRequestColumns) +
			" from " + t + " p left join " + rt + " r on r.user_id = p.user_id and r.status = 'PENDING' where p.user_id = $1",
		qLock: "select " + profileColumns + " from " + t + " where user_id = $1 for update",
		qOpen: "select " + resetRequestColumns + " from " + rt + " where user_id = $1 and status = 'PENDING'",
		qUpdate: "update " + t + " set organization_id = $2, profile = $3, documents = $4, mandatory_fields = $5," +
			" pending_fields = $6, reset_at = $7, reset_by = $8, created_at = $9, updated_at = $10, version = $11, status = $12 where user_id = $1",
		qInsertRequest: "insert into " + rt + " (" + resetRequestColumns + ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		qUpdateRequest: "update " + rt + " set description = $3, organization_id = $4, status = $5, initiator_user_id = $6," +
			" decided_by = $7, created_at = $8, decided_at = $9 where id = $1 and user_id = $2",
	}
}

// profileArgs are the arguments of qInsert and qUpdate for rec.
func profileArgs(rec *ports.ProfileRecord) []any {
	docs := rec.Documents
	if docs == nil {
		docs = []ports.ProfileDocument{}
	}
	return []any{rec.UserID, rec.OrganizationID, rec.Profile, docs, strs(rec.MandatoryFields), strs(rec.PendingFields),
		optTime(rec.ResetAt), rec.ResetBy, optTime(rec.CreatedAt), optTime(rec.UpdatedAt), rec.Version, string(rec.Profile.Status)}
}

// profileScanTargets are the scan targets of profileColumns for rec; finish stores the times.
func profileScanTargets(rec *ports.ProfileRecord) (targets []any, finish func()) {
	var resetAt, createdAt, updatedAt *time.Time
	targets = []any{&rec.UserID, &rec.OrganizationID, &rec.Profile, &rec.Documents, &rec.MandatoryFields, &rec.PendingFields,
		&resetAt, &rec.ResetBy, &createdAt, &updatedAt, &rec.Version}
	return targets, func() {
		rec.ResetAt, rec.CreatedAt, rec.UpdatedAt = fromOptTime(resetAt), fromOptTime(createdAt), fromOptTime(updatedAt)
	}
}

func scanProfile(row pgx.Row, rec *ports.ProfileRecord) error {
	targets, finish := profileScanTargets(rec)
	err := row.Scan(targets...)
	finish()
	return err
}

// scanProfileWithOpen reads a row of qGet: the profile, then its open request or NULLs.
func scanProfileWithOpen(row pgx.Row, rec *ports.ProfileRecord) error {
	targets, finish := profileScanTargets(rec)
	var (
		id, description, org, status, initiator, decidedBy *string
		createdAt, decidedAt                               *time.Time
	)
	err := row.Scan(append(targets, &id, &description, &org, &status, &initiator, &decidedBy, &createdAt, &decidedAt)...)
	finish()
	if err != nil || id == nil {
		return err
	}
	rec.OpenResetRequest = &ports.ResetRequest{
		ID: *id, UserID: rec.UserID, Description: *description, OrganizationID: *org,
		Status: ports.ResetRequestStatus(*status), InitiatorUserID: *initiator, DecidedBy: *decidedBy,
		CreatedAt: fromOptTime(createdAt), DecidedAt: fromOptTime(decidedAt),
	}
	return nil
}

// profileWriteError turns a unique violation of the profile aggregate's writes into the
// sentinel of the ports; any other error is returned as it is.
func profileWriteError(err error) error {
	switch {
	case isUniqueViolation(err, profilesPrimaryKey):
		return ports.ErrProfileExists
	case isUniqueViolation(err, resetRequestsPrimaryKey):
		return ports.ErrResetRequestExists
	case isUniqueViolation(err, resetRequestsOneOpen):
		return ports.ErrResetRequestOpen
	}
	return err
}

// Create stores rec as the memory adapter's Create does, for tests and demos (the domain
// never creates profiles; porttest.SeedableProfileStore): the profile, its open request and its events are
// inserted in one round trip, as one implicit transaction that a taken key rolls back.
func (s *ProfileStore) Create(ctx context.Context, rec ports.ProfileRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rec.Version = 1
	ports.StampVersion(rec.Outbox, rec.UserID, rec.Version)
	b := &pgx.Batch{}
	b.Queue(s.qInsert, profileArgs(&rec)...)
	if rec.OpenResetRequest != nil {
		req := *rec.OpenResetRequest
		req.UserID = rec.UserID
		b.Queue(s.qInsertRequest, resetRequestArgs(&req)...)
	}
	s.db.outbox.queue(b, rec.Outbox)
	return profileWriteError(s.db.sendBatch(ctx, b))
}

// Get implements ports.ProfileStore: the profile and its open request are read in one
// statement, so they always belong to the same committed write.
func (s *ProfileStore) Get(ctx context.Context, userID string) (ports.ProfileRecord, error) {
	return queryRow(ctx, s.db, s.qGet, []any{userID}, scanProfileWithOpen, ports.ErrProfileNotFound)
}

// Update implements ports.ProfileStore in one transaction and two round trips. The PENDING
// request is selected by a statement of its own after the profile row is locked, not joined
// to the locking select: a statement that waited for the lock would otherwise see the
// request as it was before the write it waited for.
func (s *ProfileStore) Update(ctx context.Context, userID string, fn func(*ports.ProfileRecord) error) (ports.ProfileRecord, error) {
	var (
		rec    ports.ProfileRecord
		found  bool
		loaded *ports.ResetRequest // the open request fn is given
	)
	read := &pgx.Batch{}
	read.Queue(s.qLock, userID).QueryRow(func(row pgx.Row) error {
		err := scanProfile(row, &rec)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		found = err == nil
		return err
	})
	read.Queue(s.qOpen, userID).QueryRow(func(row pgx.Row) error {
		var open ports.ResetRequest
		err := scanResetRequest(row, &open)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err == nil {
			loaded = &open
		}
		return err
	})
	out, err := lockedChange(ctx, s.db, read, func() (ports.ProfileRecord, error) {
		if !found {
			return rec, ports.ErrProfileNotFound
		}
		if loaded != nil {
			open := *loaded
			rec.OpenResetRequest = &open
		}
		return rec, nil
	}, fn, func(b *pgx.Batch, r *ports.ProfileRecord) error {
		r.UserID, r.Version = userID, rec.Version+1
		ports.StampVersion(r.Outbox, userID, r.Version)
		left := r.OpenResetRequest
		if loaded != nil && (left == nil || left.ID != loaded.ID) {
			return ports.ErrResetRequestOpen // an open request is decided, never dropped or replaced
		}
		b.Queue(s.qUpdate, profileArgs(r)...)
		r.OpenResetRequest = nil
		if left != nil {
			req := *left
			req.UserID = userID
			switch {
			case loaded == nil:
				b.Queue(s.qInsertRequest, resetRequestArgs(&req)...)
			case req != *loaded:
				b.Queue(s.qUpdateRequest, resetRequestArgs(&req)...)
			}
			if req.Status == ports.ResetRequestPending {
				r.OpenResetRequest = &req
			}
		}
		s.db.outbox.queue(b, r.Outbox)
		r.Outbox = nil
		return nil
	})
	if err != nil {
		return ports.ProfileRecord{}, profileWriteError(err)
	}
	return out, nil
}

// ResetRequestStore is a ports.ResetRequestStore in PostgreSQL (table reset_requests): it
// reads the requests that the ProfileStore of the same DB writes. A partial unique index
// keeps at most one PENDING request per user, whatever the instance. List sorts with
// COLLATE "C" columns, so strings compare byte-wise as in Go, and breaks ties by created_at
// then id.
type ResetRequestStore struct {
	db *DB

	table, qGet, qOpen string
}

// resetRequestColumns are the columns scanResetRequest reads, in its order.
const resetRequestColumns = "id, user_id, description, organization_id, status, initiator_user_id, decided_by, created_at, decided_at"

// resetRequestsOneOpen is the partial unique index of the PENDING requests.
const resetRequestsOneOpen = "reset_requests_one_open"

func newResetRequestStore(db *DB) *ResetRequestStore {
	t := db.table("reset_requests")
	return &ResetRequestStore{
		db:    db,
		table: t,
		qGet:  "select " + resetRequestColumns + " from " + t + " where id = $1",
		qOpen: "select " + resetRequestColumns + " from " + t + " where user_id = $1 and status = 'PENDING'",
	}
}

func resetRequestArgs(r *ports.ResetRequest) []any {
	return []any{r.ID, r.UserID, r.Description, r.OrganizationID, string(r.Status), r.InitiatorUserID, r.DecidedBy,
		r.CreatedAt, optTime(r.DecidedAt)}
}

func scanResetRequest(row pgx.Row, r *ports.ResetRequest) error {
	var decidedAt = optTime(r.DecidedAt)
	err := row.Scan(&r.ID, &r.UserID, &r.Description, &r.OrganizationID, &r.Status, &r.InitiatorUserID, &r.DecidedBy,
		&r.CreatedAt, &decidedAt)
	r.DecidedAt = fromOptTime(decidedAt)
	return err
}

// Get implements ports.ResetRequestStore.
func (s *ResetRequestStore) Get(ctx context.Context, id string) (ports.ResetRequest, error) {
	return queryRow(ctx, s.db, s.qGet, []any{id}, scanResetRequest, ports.ErrResetRequestNotFound)
}

// Open returns the PENDING request of userID, or ports.ErrResetRequestNotFound. The domain
// reads it from the profile (ports.ProfileRecord.OpenResetRequest) and never calls it.
func (s *ResetRequestStore) Open(ctx context.Context, userID string) (ports.ResetRequest, error) {
	return queryRow(ctx, s.db, s.qOpen, []any{userID}, scanResetRequest, ports.ErrResetRequestNotFound)
}

// resetSortColumns are the columns of the sortable fields; unknown fields are ignored, as
// the memory store ignores them.
var resetSortColumns = map[ports.ResetRequestSortField]string{
	ports.SortResetByOrganization: "organization_id",
	ports.SortResetByStatus:       "status",
	ports.SortResetByCreatedAt:    "created_at",
	ports.SortResetByUserID:       "user_id",
}

// List implements ports.ResetRequestStore. The page and the total are read in one round
// trip. The SQL is built from fixed column names only; the filter values are parameters.
func (s *ResetRequestStore) List(ctx context.Context, q ports.ResetRequestQuery) ([]ports.ResetRequest, int, error) {
	var (
		where []string
		args  []any
	)
	if q.Status != "" {
		args = append(args, string(q.Status))
		where = append(where, "status = $"+strconv.Itoa(len(args)))
	}
	if q.OrganizationID != "" {
		args = append(args, q.OrganizationID)
		where = append(where, "organization_id = $"+strconv.Itoa(len(args)))
	}
	var order []string
	for _, o := range q.Order {
		col, ok := resetSortColumns[o.Field]
		if !ok {
			continue
		}
		if o.Descending {
			col += " desc"
		}
		order = append(order, col)
	}
	order = append(order, "created_at", "id")
	offset, limit := q.Offset, q.Limit
	if offset < 0 || limit <= 0 {
		offset, limit = 0, 0 // no page, only the total
	}
	return listPage(ctx, s.db, resetRequestColumns, s.table, strings.Join(where, " and "), args, strings.Join(order, ", "),
		offset, &limit, scanResetRequest)
}

// ProfileAuditLog is a ports.ProfileAuditLog in PostgreSQL: a reader over the profile
// events (aggregate type ports.AggregateProfile) of the outbox table, which the
// ProfileStore of the same DB inserts with each change and Append adds a host's own to.
// Events are read in the order of the outbox's sequence column, which is the order their
// inserts got it: the order of the events of one change, of the changes of one user (each
// holds the profile's row lock), and of the Append calls of one goroutine. A user's events
// are found through the index outbox_aggregate_seq (migration 013).
type ProfileAuditLog struct {
	db *DB

	qAll, qUser string
}

func newProfileAuditLog(db *DB) *ProfileAuditLog {
	t := db.table("outbox")
	return &ProfileAuditLog{
		db:    db,
		qAll:  "select event from " + t + " where aggregate_type = $1 order by seq",
		qUser: "select event from " + t + " where aggregate_type = $1 and aggregate_id = $2 order by seq",
	}
}

func scanAuditEvent(row pgx.Row, ev *ports.ProfileAuditEvent) error {
	var le ports.LifecycleEvent
	err := row.Scan(&le)
	*ev, _ = ports.ProfileAuditEventOf(le)
	return err
}

// Append implements ports.ProfileAuditLog: ports.ProfileEvent(ev, "") is inserted into the
// outbox.
func (l *ProfileAuditLog) Append(ctx context.Context, ev ports.ProfileAuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ports.ValidateProfileAuditEvent(ev); err != nil {
		return err
	}
	return l.db.outbox.Append(ctx, ports.ProfileEvent(ev, ""))
}

// Events implements ports.ProfileAuditLog.
func (l *ProfileAuditLog) Events(ctx context.Context, userID string) ([]ports.ProfileAuditEvent, error) {
	if userID == "" {
		return queryRows(ctx, l.db, l.qAll, []any{ports.AggregateProfile}, scanAuditEvent)
	}
	return queryRows(ctx, l.db, l.qUser, []any{ports.AggregateProfile, userID}, scanAuditEvent)
}

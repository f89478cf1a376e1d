package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/verifykit/verifykit/ports"
)

// ProfileStore is a ports.ProfileStore in PostgreSQL (table profiles, one row per user). The
// profile and its documents are stored as jsonb; the organisation and the identification
// status are real columns as well, for hosts that query them. Update selects the row FOR
// UPDATE in a transaction, so updates of one user are serialised across instances.
type ProfileStore struct {
	db *DB

	qInsert, qGet, qLock, qUpdate string
}

// profileColumns are the columns scanProfile reads, in its order.
const profileColumns = "user_id, organization_id, profile, documents, mandatory_fields, pending_fields, reset_at, reset_by, created_at, updated_at"

func newProfileStore(db *DB) *ProfileStore {
	t := db.table("profiles")
	return &ProfileStore{
		db: db,
		qInsert: "insert into " + t + " (" + profileColumns + ", status) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)" +
			" on conflict (user_id) do nothing",
		qGet:  "select " + profileColumns + " from " + t + " where user_id = $1",
		qLock: "select " + profileColumns + " from " + t + " where user_id = $1 for update",
		qUpdate: "update " + t + " set organization_id = $2, profile = $3, documents = $4, mandatory_fields = $5," +
			" pending_fields = $6, reset_at = $7, reset_by = $8, created_at = $9, updated_at = $10, status = $11 where user_id = $1",
	}
}

// profileArgs are the arguments of qInsert and qUpdate for rec.
func profileArgs(rec *ports.ProfileRecord) []any {
	docs := rec.Documents
	if docs == nil {
		docs = []ports.ProfileDocument{}
	}
	return []any{rec.UserID, rec.OrganizationID, rec.Profile, docs, strs(rec.MandatoryFields), strs(rec.PendingFields),
		optTime(rec.ResetAt), rec.ResetBy, optTime(rec.CreatedAt), optTime(rec.UpdatedAt), string(rec.Profile.Status)}
}

func scanProfile(row pgx.Row, rec *ports.ProfileRecord) error {
	var resetAt, createdAt, updatedAt = optTime(rec.ResetAt), optTime(rec.CreatedAt), optTime(rec.UpdatedAt)
	err := row.Scan(&rec.UserID, &rec.OrganizationID, &rec.Profile, &rec.Documents, &rec.MandatoryFields, &rec.PendingFields,
		&resetAt, &rec.ResetBy, &createdAt, &updatedAt)
	rec.ResetAt, rec.CreatedAt, rec.UpdatedAt = fromOptTime(resetAt), fromOptTime(createdAt), fromOptTime(updatedAt)
	return err
}

// Create implements ports.ProfileStore.
func (s *ProfileStore) Create(ctx context.Context, rec ports.ProfileRecord) error {
	return s.db.insertNew(ctx, ports.ErrProfileExists, s.qInsert, profileArgs(&rec)...)
}

// Get implements ports.ProfileStore.
func (s *ProfileStore) Get(ctx context.Context, userID string) (ports.ProfileRecord, error) {
	return queryRow(ctx, s.db, s.qGet, []any{userID}, scanProfile, ports.ErrProfileNotFound)
}

// Update implements ports.ProfileStore: the row of userID is selected FOR UPDATE in a
// transaction, fn runs while it is locked, and what fn left is written with the commit.
func (s *ProfileStore) Update(ctx context.Context, userID string, fn func(*ports.ProfileRecord) error) (ports.ProfileRecord, error) {
	return updateLocked(ctx, s.db, s.qLock, []any{userID}, scanProfile, ports.ErrProfileNotFound, fn,
		func(b *pgx.Batch, rec *ports.ProfileRecord) {
			rec.UserID = userID
			b.Queue(s.qUpdate, profileArgs(rec)...)
		})
}

// ResetRequestStore is a ports.ResetRequestStore in PostgreSQL (table reset_requests). A
// partial unique index keeps at most one PENDING request per user, whatever the instance;
// Update selects the request FOR UPDATE in a transaction. List sorts with COLLATE "C"
// columns, so strings compare byte-wise as in Go, and breaks ties by created_at then id.
type ResetRequestStore struct {
	db *DB

	table, qInsert, qGet, qOpen, qLock, qUpdate string
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
		qInsert: "insert into " + t + " (" + resetRequestColumns + ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9)" +
			" on conflict (id) do nothing",
		qGet:  "select " + resetRequestColumns + " from " + t + " where id = $1",
		qOpen: "select " + resetRequestColumns + " from " + t + " where user_id = $1 and status = 'PENDING'",
		qLock: "select " + resetRequestColumns + " from " + t + " where id = $1 for update",
		qUpdate: "update " + t + " set description = $3, organization_id = $4, status = $5, initiator_user_id = $6," +
			" decided_by = $7, created_at = $8, decided_at = $9 where id = $1 and user_id = $2",
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

// Create implements ports.ResetRequestStore. A taken id is checked first (ON CONFLICT on the
// primary key), then the one-open-request index.
func (s *ResetRequestStore) Create(ctx context.Context, req ports.ResetRequest) error {
	err := s.db.insertNew(ctx, ports.ErrResetRequestExists, s.qInsert, resetRequestArgs(&req)...)
	if isUniqueViolation(err, resetRequestsOneOpen) {
		return ports.ErrResetRequestOpen
	}
	return err
}

// Get implements ports.ResetRequestStore.
func (s *ResetRequestStore) Get(ctx context.Context, id string) (ports.ResetRequest, error) {
	return queryRow(ctx, s.db, s.qGet, []any{id}, scanResetRequest, ports.ErrResetRequestNotFound)
}

// Open implements ports.ResetRequestStore.
func (s *ResetRequestStore) Open(ctx context.Context, userID string) (ports.ResetRequest, error) {
	return queryRow(ctx, s.db, s.qOpen, []any{userID}, scanResetRequest, ports.ErrResetRequestNotFound)
}

// Update implements ports.ResetRequestStore: the request is selected FOR UPDATE in a
// transaction, fn runs while it is locked, and what fn left is written with the commit. A
// second PENDING request of the user fails the write on the partial unique index, which
// rolls the transaction back: ErrResetRequestOpen, nothing written.
func (s *ResetRequestStore) Update(ctx context.Context, id string, fn func(*ports.ResetRequest) error) (ports.ResetRequest, error) {
	var userID string
	rec, err := updateLocked(ctx, s.db, s.qLock, []any{id}, scanResetRequest, ports.ErrResetRequestNotFound,
		func(r *ports.ResetRequest) error {
			userID = r.UserID
			return fn(r)
		},
		func(b *pgx.Batch, r *ports.ResetRequest) {
			r.ID, r.UserID = id, userID
			b.Queue(s.qUpdate, resetRequestArgs(r)...)
		})
	if isUniqueViolation(err, resetRequestsOneOpen) {
		return ports.ResetRequest{}, ports.ErrResetRequestOpen
	}
	return rec, err
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

// ProfileAuditLog is a ports.ProfileAuditLog in PostgreSQL (table profile_audit_events),
// append-only. Events are read in the order of an identity column, which is the order their
// inserts got it: the order of Append calls of one goroutine.
type ProfileAuditLog struct {
	db *DB

	qInsert, qAll, qUser string
}

// auditColumns are the columns scanAuditEvent reads, in its order.
const auditColumns = "id, action, actor_id, user_id, request_id, fields, from_status, to_status, at"

func newProfileAuditLog(db *DB) *ProfileAuditLog {
	t := db.table("profile_audit_events")
	return &ProfileAuditLog{
		db:      db,
		qInsert: "insert into " + t + " (" + auditColumns + ") values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
		qAll:    "select " + auditColumns + " from " + t + " order by seq",
		qUser:   "select " + auditColumns + " from " + t + " where user_id = $1 order by seq",
	}
}

func scanAuditEvent(row pgx.Row, ev *ports.ProfileAuditEvent) error {
	return row.Scan(&ev.ID, &ev.Action, &ev.ActorID, &ev.UserID, &ev.RequestID, &ev.Fields, &ev.From, &ev.To, &ev.At)
}

// Append implements ports.ProfileAuditLog.
func (l *ProfileAuditLog) Append(ctx context.Context, ev ports.ProfileAuditEvent) error {
	_, err := l.db.execCount(ctx, l.qInsert, ev.ID, string(ev.Action), ev.ActorID, ev.UserID, ev.RequestID,
		strs(ev.Fields), string(ev.From), string(ev.To), ev.At)
	return err
}

// Events implements ports.ProfileAuditLog.
func (l *ProfileAuditLog) Events(ctx context.Context, userID string) ([]ports.ProfileAuditEvent, error) {
	if userID == "" {
		return queryRows(ctx, l.db, l.qAll, nil, scanAuditEvent)
	}
	return queryRows(ctx, l.db, l.qUser, []any{userID}, scanAuditEvent)
}

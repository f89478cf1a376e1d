package memory

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// PersonRequestStore is a ports.PersonRequestStore in memory, sharded by request id so
// that changes to different requests do not wait for each other.
type PersonRequestStore struct {
	requests *shardedRecords[ports.PersonRequest] // id -> request
	pub      publisher
}

// PublishTo makes s write the events of each request's Outbox to o, under the request's
// lock; without an outbox (or with nil) s drops them. Call it before s is used.
func (s *PersonRequestStore) PublishTo(o *Outbox) { s.pub.attach(o) }

// NewPersonRequestStore returns an empty PersonRequestStore.
func NewPersonRequestStore() *PersonRequestStore {
	return &PersonRequestStore{requests: newShardedRecords(ports.PersonRequest.Clone)}
}

// Create implements ports.PersonRequestStore.
func (s *PersonRequestStore) Create(ctx context.Context, req ports.PersonRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if req.ID == "" {
		return errors.New("memory: person request without an id")
	}
	return s.requests.locked(ctx, req.ID, func(recs map[string]ports.PersonRequest) error {
		if _, ok := recs[req.ID]; ok {
			return ports.ErrPersonRequestExists
		}
		stored := req.Clone()
		stored.Version = 1
		ports.StampVersion(stored.Outbox, stored.ID, stored.Version)
		s.pub.publish(stored.Outbox)
		stored.Outbox = nil
		recs[req.ID] = stored
		return nil
	})
}

// Get implements ports.PersonRequestStore.
func (s *PersonRequestStore) Get(ctx context.Context, id string) (ports.PersonRequest, error) {
	return s.requests.get(ctx, id, ports.ErrPersonRequestNotFound)
}

// Update implements ports.PersonRequestStore.
func (s *PersonRequestStore) Update(ctx context.Context, id string, fn func(*ports.PersonRequest) error) (ports.PersonRequest, error) {
	var version int64
	return s.requests.update(ctx, id, ports.ErrPersonRequestNotFound, func(req *ports.PersonRequest) error {
		version = req.Version + 1
		return fn(req)
	}, func(req *ports.PersonRequest) {
		req.ID, req.Version = id, version
		ports.StampVersion(req.Outbox, id, version)
		s.pub.publish(req.Outbox) // fix runs under the lock, once fn succeeded: the write follows
		req.Outbox = nil
	})
}

// ListCreatedBefore implements ports.PersonRequestStore.
func (s *PersonRequestStore) ListCreatedBefore(ctx context.Context, statuses []ports.PersonRequestStatus, before time.Time, limit int) ([]string, error) {
	if limit < 1 {
		return nil, nil
	}
	type hit struct {
		id      string
		created time.Time
	}
	var hits []hit
	err := s.requests.each(ctx, func(requests map[string]ports.PersonRequest) {
		for id, r := range requests {
			if r.CreatedAt.Before(before) && slices.Contains(statuses, r.Status) {
				hits = append(hits, hit{id, r.CreatedAt})
			}
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(hits, func(a, b hit) int {
		return cmp.Or(a.created.Compare(b.created), strings.Compare(a.id, b.id))
	})
	ids := make([]string, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		ids = append(ids, h.id)
	}
	return ids, nil
}

// ErrUploadURLInvalid is the cause of every failure of UploadSigner.Check.
var ErrUploadURLInvalid = errors.New("invalid upload URL")

// UploadSigner is a ports.UploadSigner that signs URLs with a random in-memory key, the way
// an object store pre-signs them. Tests check a URL with Check, and inject failures with
// FailNext.
type UploadSigner struct {
	key  []byte
	base string
	macs sync.Pool // of hash.Hash, HMAC-SHA256 with key

	mu       sync.Mutex
	failNext int
	signed   int
}

// UploadBaseURL is where the URLs of an UploadSigner point.
const UploadBaseURL = "https://uploads.verifykit.invalid/"

// NewUploadSigner returns an UploadSigner with a fresh random key.
func NewUploadSigner() *UploadSigner {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+).
	u := &UploadSigner{key: key, base: UploadBaseURL}
	u.macs.New = func() any { return hmac.New(sha256.New, u.key) }
	return u
}

// SignUploadURL implements ports.UploadSigner: the URL names the target and the expiry,
// and carries an HMAC of them.
func (u *UploadSigner) SignUploadURL(ctx context.Context, target ports.UploadTarget, expiresAt time.Time) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	u.mu.Lock()
	if u.failNext > 0 {
		u.failNext--
		u.mu.Unlock()
		return "", fmt.Errorf("sign upload URL: %w", ErrInjectedFailure)
	}
	u.signed++
	u.mu.Unlock()
	version := strconv.Itoa(target.Version)
	expires := strconv.FormatInt(expiresAt.UnixNano(), 10)
	path := url.PathEscape(target.Resource) + "/" + url.PathEscape(target.DocumentType)
	return u.base + path + "?expires=" + expires + "&sig=" + u.sign(path, version, expires) + "&v=" + version, nil
}

func (u *UploadSigner) sign(fields ...string) string {
	m := u.macs.Get().(hash.Hash)
	defer u.macs.Put(m)
	m.Reset()
	var buf [20]byte
	for _, f := range fields {
		m.Write(strconv.AppendInt(buf[:0], int64(len(f)), 10))
		m.Write([]byte{':'})
		m.Write([]byte(f))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0]))
}

// Check reports whether raw is a URL this signer issued, unchanged and not expired at now,
// and returns its target. Failures wrap ErrUploadURLInvalid. It does not know whether a
// newer URL replaced this one: that is the business of the flow that issued it.
func (u *UploadSigner) Check(raw string, now time.Time) (ports.UploadTarget, error) {
	rest, ok := strings.CutPrefix(raw, u.base)
	if !ok {
		return ports.UploadTarget{}, fmt.Errorf("%w: not issued here", ErrUploadURLInvalid)
	}
	path, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return ports.UploadTarget{}, fmt.Errorf("%w: %w", ErrUploadURLInvalid, err)
	}
	if !hmac.Equal([]byte(q.Get("sig")), []byte(u.sign(path, q.Get("v"), q.Get("expires")))) {
		return ports.UploadTarget{}, fmt.Errorf("%w: bad signature", ErrUploadURLInvalid)
	}
	exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil {
		return ports.UploadTarget{}, fmt.Errorf("%w: bad expiry", ErrUploadURLInvalid)
	}
	if !now.Before(time.Unix(0, exp)) {
		return ports.UploadTarget{}, fmt.Errorf("%w: expired", ErrUploadURLInvalid)
	}
	resource, docType, _ := strings.Cut(path, "/")
	var t ports.UploadTarget
	t.Resource, _ = url.PathUnescape(resource)
	t.DocumentType, _ = url.PathUnescape(docType)
	t.Version, _ = strconv.Atoi(q.Get("v"))
	return t, nil
}

// FailNext makes the next n SignUploadURL calls fail with ErrInjectedFailure.
func (u *UploadSigner) FailNext(n int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failNext = n
}

// Signed returns how many URLs the signer has issued.
func (u *UploadSigner) Signed() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.signed
}

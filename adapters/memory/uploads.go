package memory

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit/ports"
)

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

package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports"
)

// codeRecord returns an active code of purpose "p" and subject "s" created at start.
func codeRecord(id string) ports.OTPRecord {
	return ports.OTPRecord{
		ID: id, Purpose: "p", Subject: "s", Hash: []byte("h"), State: ports.CodeActive,
		MaxAttempts: 3, CreatedAt: start, ExpiresAt: start.Add(10 * time.Minute),
	}
}

// namedPool opens a pool whose connections carry a unique application_name, which it returns.
func namedPool(t *testing.T) (*pgxpool.Pool, string) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "verifykit-test-" + hex.EncodeToString(b[:])
	return pgtest.NewPool(t, func(c *pgxpool.Config) { c.ConnConfig.RuntimeParams["application_name"] = name }), name
}

func TestConnectionKilledMidTransaction(t *testing.T) {
	ctx := context.Background()
	pool, name := namedPool(t)
	db := pgtest.NewOn(t, pool)
	other, err := postgres.New(pgtest.NewPool(t), postgres.Options{Schema: db.Schema()})
	require.NoError(t, err)
	store := db.OTPStore()
	_, err = store.CreateCode(ctx, codeRecord("00000000-0000-0000-0000-000000000001"))
	require.NoError(t, err)

	killed := false
	_, _, err = store.VerifyLatest(ctx, "p", "s", start.Add(time.Minute), func(ports.OTPRecord) bool {
		// The code is locked inside an open transaction: kill that backend from elsewhere.
		err := other.Pool().QueryRow(ctx, `select count(*) = 1 and bool_and(pg_terminate_backend(pid, 10000))
			from pg_stat_activity where application_name = $1 and state = 'idle in transaction'`, name).Scan(&killed)
		return err == nil
	})
	require.True(t, killed, "one backend in a transaction was terminated")
	require.Error(t, err)
	require.Equal(t, verifykit.KindUnavailable, verifykit.KindOf(err), "%v", err)

	codes, err := other.OTPStore().Codes(ctx, "p", "s")
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Equal(t, ports.CodeActive, codes[0].State, "no partial state")
	require.Zero(t, codes[0].Attempts)
	require.True(t, codes[0].UsedAt.IsZero())

	got, out, err := store.VerifyLatest(ctx, "p", "s", start.Add(time.Minute), func(ports.OTPRecord) bool { return true })
	require.NoError(t, err, "the next call succeeds")
	require.Equal(t, ports.OutcomeVerified, out)
	require.Equal(t, ports.CodeVerified, got.State)
}

func TestLockWaitRespectsContext(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := db.OTPStore()
	_, err := store.CreateCode(ctx, codeRecord("00000000-0000-0000-0000-000000000001"))
	require.NoError(t, err)

	var waitErr, createErr error
	_, out, err := store.VerifyLatest(ctx, "p", "s", start.Add(time.Minute), func(ports.OTPRecord) bool {
		// While this verification holds the code, others on the same subject wait for it:
		// until their context ends.
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, _, waitErr = store.VerifyLatest(short, "p", "s", start.Add(time.Minute), func(ports.OTPRecord) bool { return true })
		short2, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel2()
		_, createErr = store.CreateCode(short2, codeRecord("00000000-0000-0000-0000-000000000002"))
		return true
	})
	require.NoError(t, err)
	require.Equal(t, ports.OutcomeVerified, out)
	for _, err := range []error{waitErr, createErr} {
		require.Error(t, err)
		require.Equal(t, verifykit.KindUnavailable, verifykit.KindOf(err), "%v", err)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	codes, err := store.Codes(ctx, "p", "s")
	require.NoError(t, err)
	require.Len(t, codes, 1, "the create that gave up wrote nothing")
	require.Equal(t, ports.CodeVerified, codes[0].State)
}

func TestCancelledContextIsUnavailable(t *testing.T) {
	db := pgtest.New(t)
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := db.OTPStore().VerifyLatest(cctx, "p", "s", start, func(ports.OTPRecord) bool { return true })
	require.Equal(t, verifykit.KindUnavailable, verifykit.KindOf(err))
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.RateLimiter().Allow(cctx, "k", start, ports.RateLimit{Max: 1, Per: time.Second})
	require.Equal(t, verifykit.KindUnavailable, verifykit.KindOf(err))
	require.ErrorIs(t, err, context.Canceled)
}

func TestDuplicateCodeIDIsConflict(t *testing.T) {
	ctx := context.Background()
	store := pgtest.New(t).OTPStore()
	_, err := store.CreateCode(ctx, codeRecord("00000000-0000-0000-0000-000000000001"))
	require.NoError(t, err)
	_, err = store.CreateCode(ctx, codeRecord("00000000-0000-0000-0000-000000000001"))
	require.Equal(t, verifykit.KindConflict, verifykit.KindOf(err))
	codes, err := store.Codes(ctx, "p", "s")
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Equal(t, ports.CodeActive, codes[0].State, "the failed create superseded nothing")
}

func TestUnmigratedSchemaIsInternal(t *testing.T) {
	pool := pgtest.NewPool(t)
	db, err := postgres.New(pool, pgtest.NewSchema(t, pool))
	require.NoError(t, err)
	_, err = db.OTPStore().Codes(context.Background(), "p", "s")
	require.Equal(t, verifykit.KindInternal, verifykit.KindOf(err))
}

func TestKeysKeepAnyString(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := db.OTPStore()
	rec := codeRecord("00000000-0000-0000-0000-000000000001")
	rec.Purpose, rec.Subject = "p\x00q", "s\xff\x00"
	_, err := store.CreateCode(ctx, rec)
	require.NoError(t, err)
	codes, err := store.Codes(ctx, rec.Purpose, rec.Subject)
	require.NoError(t, err)
	require.Len(t, codes, 1)
	require.Equal(t, rec.Subject, codes[0].Subject)
	codes, err = store.Codes(ctx, "p", "q")
	require.NoError(t, err)
	require.Empty(t, codes)

	d, err := db.RateLimiter().Allow(ctx, "otp:fail:p\x00s\xff", start, ports.RateLimit{Max: 1, Per: time.Minute})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	d, err = db.RateLimiter().Peek(ctx, "otp:fail:p\x00s\xff", start, ports.RateLimit{Max: 1, Per: time.Minute})
	require.NoError(t, err)
	require.False(t, d.Allowed)
}

func TestRateLimiterPurgeStale(t *testing.T) {
	ctx := context.Background()
	l := pgtest.New(t).RateLimiter()
	short := ports.RateLimit{Max: 1, Per: time.Minute}
	long := ports.RateLimit{Max: 1, Per: time.Hour}
	for _, k := range []string{"a", "b"} {
		_, err := l.Allow(ctx, k, start, short)
		require.NoError(t, err)
	}
	_, err := l.Allow(ctx, "c", start, long)
	require.NoError(t, err)

	n, err := l.PurgeStale(ctx, start.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Zero(t, n, "at the end of its window an event still counts")
	n, err = l.PurgeStale(ctx, start.Add(2*time.Minute), 1)
	require.NoError(t, err)
	require.Equal(t, 1, n, "a batch is bounded")
	n, err = l.PurgeStale(ctx, start.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	d, err := l.Peek(ctx, "c", start.Add(2*time.Minute), long)
	require.NoError(t, err)
	require.False(t, d.Allowed, "a key whose window is still open is kept")
}

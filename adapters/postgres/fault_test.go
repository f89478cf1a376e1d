package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports"
)

// verification returns a Verification with an active code id of purpose "p" and subject
// "s", created at start.
func verification(id string) ports.Verification {
	return ports.Verification{
		Code: ports.OTPRecord{
			ID: id, Purpose: "p", Subject: "s", Hash: []byte("h"), State: ports.CodeActive,
			MaxAttempts: 3, CreatedAt: start, ExpiresAt: start.Add(10 * time.Minute),
		},
		KeepUntil: start.Add(10 * time.Minute),
	}
}

// put stores v as the Verification of purpose "p" and subject "s".
func put(t *testing.T, store ports.OTPStore, v ports.Verification) {
	t.Helper()
	_, err := store.Update(context.Background(), "p", "s", func(cur *ports.Verification) error {
		*cur = v
		return nil
	})
	require.NoError(t, err)
}

// namedPool opens a pool whose connections carry a unique application_name, which it returns.
func namedPool(t testing.TB) (*pgxpool.Pool, string) {
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
	put(t, store, verification("00000000-0000-0000-0000-000000000001"))

	killed := false
	_, err = store.Update(ctx, "p", "s", func(v *ports.Verification) error {
		// The code is locked inside an open transaction: kill that backend from elsewhere.
		err := other.Pool().QueryRow(ctx, `select count(*) = 1 and bool_and(pg_terminate_backend(pid, 10000))
			from pg_stat_activity where application_name = $1 and state = 'idle in transaction'`, name).Scan(&killed)
		v.Code.State, v.Code.Attempts, v.Code.UsedAt = ports.CodeVerified, 2, start.Add(time.Minute)
		return err
	})
	require.True(t, killed, "one backend in a transaction was terminated")
	require.Error(t, err)
	require.ErrorIs(t, err, ports.ErrUnavailable)

	got, err := other.OTPStore().Get(ctx, "p", "s")
	require.NoError(t, err)
	require.Equal(t, ports.CodeActive, got.Code.State, "no partial state")
	require.Zero(t, got.Code.Attempts)
	require.True(t, got.Code.UsedAt.IsZero())

	got, err = store.Update(ctx, "p", "s", func(v *ports.Verification) error {
		v.Code.State = ports.CodeVerified
		return nil
	})
	require.NoError(t, err, "the next call succeeds")
	require.Equal(t, ports.CodeVerified, got.Code.State)
}

func TestLockWaitRespectsContext(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := db.OTPStore()
	put(t, store, verification("00000000-0000-0000-0000-000000000001"))

	var waitErr error
	_, err := store.Update(ctx, "p", "s", func(v *ports.Verification) error {
		// While this update holds the Verification, others on the same subject wait for it:
		// until their context ends.
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, waitErr = store.Update(short, "p", "s", func(v *ports.Verification) error {
			v.Code.Attempts = 99
			return nil
		})
		v.Code.State = ports.CodeVerified
		return nil
	})
	require.NoError(t, err)
	require.Error(t, waitErr)
	require.ErrorIs(t, waitErr, ports.ErrUnavailable)
	require.ErrorIs(t, waitErr, context.DeadlineExceeded)
	got, err := store.Get(ctx, "p", "s")
	require.NoError(t, err)
	require.Equal(t, ports.CodeVerified, got.Code.State)
	require.Zero(t, got.Code.Attempts, "the update that gave up wrote nothing")
}

func TestCancelledContextIsUnavailable(t *testing.T) {
	db := pgtest.New(t)
	cctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := db.OTPStore().Update(cctx, "p", "s", func(*ports.Verification) error { return nil })
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.RateLimiter().Allow(cctx, "k", start, ports.RateLimit{Max: 1, Per: time.Second})
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)
}

func TestUnmigratedSchemaIsTheServersError(t *testing.T) {
	pool := pgtest.NewPool(t)
	db, err := postgres.New(pool, pgtest.NewSchema(t, pool))
	require.NoError(t, err)
	_, err = db.OTPStore().Get(context.Background(), "p", "s")
	var pe *pgconn.PgError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "42P01", pe.Code, "undefined_table: Migrate was not run")
	require.NotErrorIs(t, err, ports.ErrUnavailable, "trying again cannot cure it")
}

func TestKeysKeepAnyString(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	store := db.OTPStore()
	v := verification("00000000-0000-0000-0000-000000000001")
	v.Code.Purpose, v.Code.Subject = "p\x00q", "s\xff\x00"
	_, err := store.Update(ctx, v.Code.Purpose, v.Code.Subject, func(cur *ports.Verification) error {
		*cur = v
		return nil
	})
	require.NoError(t, err)
	got, err := store.Get(ctx, v.Code.Purpose, v.Code.Subject)
	require.NoError(t, err)
	require.Equal(t, v.Code.Subject, got.Code.Subject)
	_, err = store.Get(ctx, "p", "q")
	require.True(t, errors.Is(err, ports.ErrNoCode), "%v", err)

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
	// A key is kept for the retention its newest event was recorded with.
	l.SetRetention(time.Minute)
	for _, k := range []string{"a", "b"} {
		_, err := l.Allow(ctx, k, start, short)
		require.NoError(t, err)
	}
	l.SetRetention(time.Hour)
	_, err := l.Allow(ctx, "c", start, short)
	require.NoError(t, err)

	n, err := l.PurgeStale(ctx, start.Add(time.Minute), 10)
	require.NoError(t, err)
	require.Zero(t, n, "at the end of its retention an event still counts")
	n, err = l.PurgeStale(ctx, start.Add(2*time.Minute), 1)
	require.NoError(t, err)
	require.Equal(t, 1, n, "a batch is bounded")
	n, err = l.PurgeStale(ctx, start.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	d, err := l.Peek(ctx, "c", start.Add(2*time.Minute), long)
	require.NoError(t, err)
	require.False(t, d.Allowed, "a key within its retention is kept, whatever the window of its events")
	n, err = l.PurgeStale(ctx, start.Add(ports.DefaultRateRetention), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/ports"
)

// queryLog is a pgx.QueryTracer and pgx.BatchTracer (as otelpgx's tracer is) that keeps
// the SQL of every query pgx traced, alone or in a batch.
type queryLog struct {
	mu      sync.Mutex
	started []string
	ended   int
}

func (q *queryLog) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (q *queryLog) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.started = append(q.started, data.SQL)
	q.ended++
}

func (q *queryLog) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (q *queryLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.started = append(q.started, data.SQL)
	return ctx
}

func (q *queryLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ended++
}

func (q *queryLog) sql() (string, int, int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return strings.Join(q.started, "\n"), len(q.started), q.ended
}

func TestOpenTracesEveryQueryOfTheAdapter(t *testing.T) {
	ctx := context.Background()
	schema := pgtest.NewSchema(t, pgtest.NewPool(t)).Schema // skips without VERIFYKIT_POSTGRES_DSN
	log := &queryLog{}
	db, err := postgres.Open(ctx, pgtest.DSN(t), postgres.Options{Schema: schema, QueryTracer: log})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx))

	_, before, _ := log.sql()
	dec, err := db.RateLimiter().Allow(ctx, "tracer-test", time.Now(), ports.RateLimit{Max: 5, Per: time.Minute})
	require.NoError(t, err)
	require.True(t, dec.Allowed)
	sql, after, ended := log.sql()
	require.Greater(t, after, before, "the limiter's queries reached the tracer")
	require.True(t, strings.Contains(sql, `"`+schema+`"."rate_limits"`), "the traced SQL is the limiter's, on its schema")
	require.Equal(t, after, ended, "every traced query ended")

	db.Close()
	require.Error(t, db.Pool().Ping(ctx), "Close closes the pool Open built")
}

func TestNewLeavesThePoolToItsOwner(t *testing.T) {
	pool := pgtest.NewPool(t)
	db, err := postgres.New(pool, postgres.Options{Schema: pgtest.NewSchema(t, pool).Schema})
	require.NoError(t, err)
	db.Close()
	require.NoError(t, pool.Ping(context.Background()), "Close leaves a caller's pool open")
}

func TestTracerAndDSNOptionsAreChecked(t *testing.T) {
	var vErr *verifykit.Error

	_, err := postgres.New(pgtest.NewPool(t), postgres.Options{QueryTracer: &queryLog{}})
	require.True(t, errors.As(err, &vErr), "%v", err)
	require.Equal(t, verifykit.KindInvalidInput, vErr.Kind)
	require.Equal(t, "QueryTracer", vErr.Invalid[0].Entry)

	_, err = postgres.Open(context.Background(), "postgres://app:s3cret-pw@127.0.0.1:5432/db?sslmode=bogus", postgres.Options{})
	require.True(t, errors.As(err, &vErr), "%v", err)
	require.Equal(t, "dsn", vErr.Invalid[0].Entry)
	require.NotContains(t, err.Error(), "s3cret-pw", "a password in the dsn is not repeated")

	_, err = postgres.Open(context.Background(), "postgres://127.0.0.1/db", postgres.Options{Schema: "Bad-Schema"})
	require.True(t, errors.As(err, &vErr), "%v", err)
	require.Equal(t, "Schema", vErr.Invalid[0].Entry)
}

package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
)

// schemaState describes a schema: its applied migrations (with when) and its relations.
type schemaState struct {
	Versions  []string
	Relations []string
}

func readSchema(t *testing.T, pool *pgxpool.Pool, schema string) schemaState {
	t.Helper()
	ctx := context.Background()
	var s schemaState
	rows, _ := pool.Query(ctx, "select version || ' ' || name || ' ' || applied_at::text from "+
		pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" order by version")
	var err error
	s.Versions, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	rows, _ = pool.Query(ctx, `select c.relname || ' ' || c.relkind::text || ' ' || c.oid::text
		from pg_class c join pg_namespace n on n.oid = c.relnamespace
		where n.nspname = $1 order by c.relname`, schema)
	s.Relations, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return s
}

func TestMigrationsAreNumbered(t *testing.T) {
	ms, err := postgres.Migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		require.Equal(t, i+1, m.Version)
		require.NotEmpty(t, m.SQL)
	}
	require.Equal(t, "001_otp_codes.sql", ms[0].Name)
}

func TestMigrateFromEmptyThenAgain(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	opts := pgtest.NewSchema(t, pool)
	require.NoError(t, postgres.Migrate(ctx, pool, opts))

	first := readSchema(t, pool, opts.Schema)
	ms, err := postgres.Migrations()
	require.NoError(t, err)
	require.Len(t, first.Versions, len(ms), "every migration is applied")
	for _, table := range []string{"otp_verifications r ", "person_requests r ", "processes r ", "rate_limits r ", "schema_migrations r "} {
		require.True(t, slices.ContainsFunc(first.Relations, func(rel string) bool { return strings.HasPrefix(rel, table) }), table)
	}

	require.NoError(t, postgres.Migrate(ctx, pool, opts))
	require.Equal(t, first, readSchema(t, pool, opts.Schema), "a second run changes nothing")
}

func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	pools := []*pgxpool.Pool{pgtest.NewPool(t), pgtest.NewPool(t)}
	opts := pgtest.NewSchema(t, pools[0])
	errs := race(8, func(i int) error { return postgres.Migrate(ctx, pools[i%2], opts) })
	for _, err := range errs {
		require.NoError(t, err)
	}
	ms, err := postgres.Migrations()
	require.NoError(t, err)
	require.Len(t, readSchema(t, pools[1], opts.Schema).Versions, len(ms), "each migration applied once")
}

func TestSchemaNameIsValidated(t *testing.T) {
	pool := pgtest.NewPool(t)
	for _, schema := range []string{"Verifykit", "a-b", `x"; drop table t; --`, "pg_toast", "1abc", "a b",
		"a123456789012345678901234567890123456789012345678901234567890123"} {
		_, err := postgres.New(pool, postgres.Options{Schema: schema})
		require.Equal(t, verifykit.KindInvalidInput, verifykit.KindOf(err), "schema %q", schema)
		err = postgres.Migrate(context.Background(), pool, postgres.Options{Schema: schema})
		require.Equal(t, verifykit.KindInvalidInput, verifykit.KindOf(err), "schema %q", schema)
	}
	db, err := postgres.New(pool, postgres.Options{})
	require.NoError(t, err)
	require.Equal(t, postgres.DefaultSchema, db.Schema())
	_, err = postgres.New(nil, postgres.Options{})
	require.Equal(t, verifykit.KindInvalidInput, verifykit.KindOf(err))
}

func TestMigrateRefusesAnEditedMigration(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	opts := pgtest.NewSchema(t, pool)
	require.NoError(t, postgres.Migrate(ctx, pool, opts))
	ms, err := postgres.Migrations()
	require.NoError(t, err)
	versions := pgx.Identifier{opts.Schema, "schema_migrations"}.Sanitize()

	var recorded string
	require.NoError(t, pool.QueryRow(ctx, "select checksum from "+versions+" where version = 3").Scan(&recorded))
	require.Equal(t, ms[2].Checksum, recorded, "the file's SHA-256 is recorded with its version")
	require.Len(t, recorded, 64)

	// What a database looks like when 003's file was edited after it was applied.
	_, err = pool.Exec(ctx, "update "+versions+" set checksum = repeat('0', 64) where version = 3")
	require.NoError(t, err)
	before := readSchema(t, pool, opts.Schema)
	err = postgres.Migrate(ctx, pool, opts)
	require.ErrorIs(t, err, verifykit.ErrInternal)
	require.ErrorContains(t, err, ms[2].Name, "the error names the file")
	require.ErrorContains(t, err, "changed after it was applied")
	require.Equal(t, before, readSchema(t, pool, opts.Schema), "nothing is applied")
}

func TestMigrateRecordsChecksumsOfOlderRows(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	opts := pgtest.NewSchema(t, pool)
	require.NoError(t, postgres.Migrate(ctx, pool, opts))
	versions := pgx.Identifier{opts.Schema, "schema_migrations"}.Sanitize()
	// A schema migrated before checksums were recorded.
	_, err := pool.Exec(ctx, "update "+versions+" set checksum = null")
	require.NoError(t, err)
	require.NoError(t, postgres.Migrate(ctx, pool, opts))
	var missing int
	require.NoError(t, pool.QueryRow(ctx, "select count(*) from "+versions+" where checksum is null").Scan(&missing))
	require.Zero(t, missing)
}

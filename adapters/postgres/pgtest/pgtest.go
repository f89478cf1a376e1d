// Package pgtest gives tests a PostgreSQL database to run the postgres adapter against: a
// pool on the database that VERIFYKIT_POSTGRES_DSN names, and a fresh schema per test,
// migrated and dropped when the test ends.
//
//	func TestSomething(t *testing.T) {
//		db := pgtest.New(t) // *postgres.DB on a new, migrated schema
//		store := db.OTPStore()
//		...
//	}
//
// Without VERIFYKIT_POSTGRES_DSN the tests are skipped, with a message saying how to run
// them; when CI=true they fail instead, and so do they when the variable is set but the
// database cannot be reached.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verifykit/verifykit/adapters/postgres"
)

// EnvDSN names the environment variable that holds the DSN of the test database.
const EnvDSN = "VERIFYKIT_POSTGRES_DSN"

// setupTimeout bounds connecting, creating and dropping a test schema.
const setupTimeout = 30 * time.Second

// skipHow says why the PostgreSQL tests skip and how to run them.
const skipHow = EnvDSN + " is not set; run the PostgreSQL tests with e.g. " +
	EnvDSN + "='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./adapters/postgres/..."

// Main runs a package's tests (call it from TestMain). When the PostgreSQL tests will skip
// (no VERIFYKIT_POSTGRES_DSN, CI not "true"), it first writes one line saying so, and how
// to switch them on, to stderr, which go test shows without -v; a plain "ok" would hide
// that nothing ran.
func Main(m *testing.M) int {
	Notice(os.Stderr)
	return m.Run()
}

// Notice writes the line Main writes, when the PostgreSQL tests will skip; otherwise
// nothing.
func Notice(w io.Writer) {
	if os.Getenv(EnvDSN) == "" && os.Getenv("CI") != "true" {
		fmt.Fprintln(w, "pgtest: PostgreSQL tests skipped: "+skipHow)
	}
}

// DSN returns the DSN of the test database. Without one it skips the test, or fails it when
// the environment variable CI is "true".
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn != "" {
		return dsn
	}
	if os.Getenv("CI") == "true" {
		t.Fatal(skipHow + " (CI=true: the PostgreSQL tests must run)")
	}
	t.Skip(skipHow)
	return ""
}

// NewPool opens a new pool on the test database, applies configure to its config first, and
// closes it when the test ends. It fails the test when the database cannot be reached. Each
// call is one more "host instance".
func NewPool(t testing.TB, configure ...func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(DSN(t))
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvDSN, err)
	}
	for _, f := range configure {
		f(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: opening a pool: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("pgtest: the database of %s is not reachable: %v", EnvDSN, err)
	}
	return pool
}

// NewSchema returns options naming a new schema with a random name, which does not exist yet,
// and drops it (with everything in it) when the test ends.
func NewSchema(t testing.TB, pool *pgxpool.Pool) postgres.Options {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "vktest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := pool.Exec(ctx, "drop schema if exists "+pgx.Identifier{schema}.Sanitize()+" cascade"); err != nil {
			t.Errorf("pgtest: dropping schema %s: %v", schema, err)
		}
	})
	return postgres.Options{Schema: schema}
}

// NewOn returns the adapter on a new schema on pool, migrated, dropped when the test ends.
func NewOn(t testing.TB, pool *pgxpool.Pool) *postgres.DB {
	t.Helper()
	opts := NewSchema(t, pool)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := postgres.Migrate(ctx, pool, opts); err != nil {
		t.Fatalf("pgtest: migrating schema %s: %v", opts.Schema, err)
	}
	db, err := postgres.New(pool, opts)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return db
}

// New returns the adapter on a new pool and a new schema, migrated; both go away when the
// test ends.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	return NewOn(t, NewPool(t))
}

package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verifykit/verifykit"
)

// migrationFiles holds the schema's migrations: migrations/NNN_name.sql, applied in the order
// of NNN, which starts at 1 and has no gaps. A migration names its tables without a schema:
// it runs with search_path set to the adapter's schema. Never edit a migration that was
// released; add a new file instead.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded migration.
type Migration struct {
	// Version is the NNN of the file name; versions start at 1 and have no gaps.
	Version int
	// Name is the file name without its directory, e.g. "001_otp_codes.sql".
	Name string
	// SQL is the content of the file.
	SQL string
}

var migrationName = regexp.MustCompile(`^([0-9]{3})_[a-z0-9_]+\.sql$`)

// Migrations returns the embedded migrations in the order Migrate applies them, or an error
// when their files are misnamed or their versions are not 1, 2, 3, ...
func Migrations() ([]Migration, error) {
	return loadMigrations(migrationFiles, "migrations")
}

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("postgres: migration %q is not named NNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("postgres: migration %s: want version %03d (versions start at 1 and have no gaps)", m.Name, i+1)
		}
	}
	return out, nil
}

// Migrate brings the schema of opts up to date on pool: it creates the schema and its
// schema_migrations table if needed, then applies, in order, each embedded migration that
// schema_migrations does not list, each in one transaction together with its row in
// schema_migrations. It is idempotent (a second run changes nothing) and safe when several
// instances run it at once: it holds a session advisory lock of the schema meanwhile, so each
// migration is applied once. ctx bounds the whole run, including the wait for the lock.
// Errors are *verifykit.Error values as described in the package documentation.
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	db, err := New(pool, opts)
	if err != nil {
		return err
	}
	migrations, err := Migrations()
	if err != nil {
		return verifykit.Wrap(verifykit.KindInternal, msgInternal, err)
	}
	c, err := pool.Acquire(ctx)
	if err != nil {
		return storageError(err)
	}
	defer c.Release()

	lock := db.lockKey("migrate")
	if _, err := c.Exec(ctx, "select pg_advisory_lock($1)", lock); err != nil {
		return storageError(err)
	}
	defer func() {
		// A failed unlock leaves the lock with the session: drop the session, and the lock.
		if _, err := c.Exec(context.WithoutCancel(ctx), "select pg_advisory_unlock($1)", lock); err != nil {
			_ = c.Conn().Close(context.WithoutCancel(ctx))
		}
	}()

	schema := pgx.Identifier{db.schema}.Sanitize()
	versions := db.table("schema_migrations")
	if _, err := c.Exec(ctx, "create schema if not exists "+schema+";\n"+
		"create table if not exists "+versions+` (
			version    integer     primary key,
			name       text        not null,
			applied_at timestamptz not null default now()
		)`); err != nil {
		return storageError(err)
	}
	rows, _ := c.Query(ctx, "select version from "+versions)
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return storageError(err)
	}
	for _, m := range migrations {
		if slices.Contains(applied, m.Version) {
			continue
		}
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "set local search_path to "+schema+";\n"+m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			_, err := tx.Exec(ctx, "insert into "+versions+" (version, name) values ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return storageError(err)
		}
	}
	return nil
}

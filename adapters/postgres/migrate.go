package postgres

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
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
	// Checksum is the hex SHA-256 of SQL. Migrate records it with the version and refuses
	// to run when an applied migration's file no longer has it.
	Checksum string
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
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: e.Name(), SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
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
// schema_migrations (version, file name and the file's SHA-256). Before applying anything it
// compares the checksum recorded for every applied migration with its embedded file, and
// refuses to run — a KindInternal error naming the file — when one was edited after it was
// applied, since the edit would never reach this database. (Rows from before checksums
// were recorded get the current file's checksum on the first run.) It is idempotent (a second run changes nothing) and safe when several
// instances run it at once: it holds a session advisory lock of the schema meanwhile, so each
// migration is applied once. ctx bounds the whole run, including the wait for the lock.
// Bad options and an edited migration answer a *verifykit.Error (KindInvalidInput,
// KindInternal) naming what to fix; a failure of the database is its cause, wrapped as
// the package documentation says (ports.ErrUnavailable when trying again may work).
func Migrate(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	db, err := New(pool, opts)
	if err != nil {
		return err
	}
	migrations, err := Migrations()
	if err != nil {
		return verifykit.Wrap(verifykit.KindInternal, "The embedded PostgreSQL migrations cannot be read.", err)
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
	if _, err := c.Exec(ctx, "alter table "+versions+" add column if not exists checksum text"); err != nil {
		return storageError(err)
	}
	applied, err := appliedChecksums(ctx, c, versions, migrations)
	if err != nil {
		return err
	}
	for _, m := range migrations {
		if _, ok := applied[m.Version]; ok {
			continue
		}
		err := pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "set local search_path to "+schema+";\n"+m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			_, err := tx.Exec(ctx, "insert into "+versions+" (version, name, checksum) values ($1, $2, $3)", m.Version, m.Name, m.Checksum)
			return err
		})
		if err != nil {
			return storageError(err)
		}
	}
	return nil
}

// errMigrationChanged marks a migration file edited after it was applied.
var errMigrationChanged = errors.New("migration file changed after it was applied")

// appliedChecksums returns the applied versions with their recorded checksums, records the
// file's checksum for rows that have none yet, and fails when a recorded checksum differs
// from the embedded file's.
func appliedChecksums(ctx context.Context, c *pgxpool.Conn, versions string, migrations []Migration) (map[int]string, error) {
	type row struct {
		Version  int
		Checksum *string
	}
	rows, _ := c.Query(ctx, "select version, checksum from "+versions)
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return nil, storageError(err)
	}
	byVersion := make(map[int]Migration, len(migrations))
	for _, m := range migrations {
		byVersion[m.Version] = m
	}
	applied := make(map[int]string, len(got))
	for _, r := range got {
		m, known := byVersion[r.Version]
		switch {
		case !known:
			// Applied by a newer release: nothing to compare with.
			applied[r.Version] = ""
		case r.Checksum == nil:
			if _, err := c.Exec(ctx, "update "+versions+" set checksum = $1 where version = $2 and checksum is null", m.Checksum, m.Version); err != nil {
				return nil, storageError(err)
			}
			applied[r.Version] = m.Checksum
		case *r.Checksum != m.Checksum:
			return nil, verifykit.Wrap(verifykit.KindInternal,
				fmt.Sprintf("PostgreSQL migration %s was changed after it was applied to this schema (recorded SHA-256 %s, file %s): restore the file and add a new migration instead", m.Name, short(*r.Checksum), short(m.Checksum)),
				fmt.Errorf("postgres: %s: %w", m.Name, errMigrationChanged))
		default:
			applied[r.Version] = *r.Checksum
		}
	}
	return applied, nil
}

// short is the first 12 characters of a checksum, enough to tell two apart in a message.
func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

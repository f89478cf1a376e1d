package postgres

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
)

func TestStorageErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want verifykit.Kind
	}{
		{&pgconn.PgError{Code: "23505"}, verifykit.KindConflict},
		{&pgconn.PgError{Code: "22021"}, verifykit.KindInvalidInput},
		{&pgconn.PgError{Code: "08006"}, verifykit.KindUnavailable},
		{&pgconn.PgError{Code: "57P01"}, verifykit.KindUnavailable},
		{&pgconn.PgError{Code: "57014"}, verifykit.KindUnavailable},
		{&pgconn.PgError{Code: "53300"}, verifykit.KindUnavailable},
		{&pgconn.PgError{Code: "40P01"}, verifykit.KindUnavailable},
		{&pgconn.PgError{Code: "55P03"}, verifykit.KindUnavailable},
		{&pgconn.PgError{Code: "42P01"}, verifykit.KindInternal},
		{context.Canceled, verifykit.KindUnavailable},
		{errors.New("unexpected EOF"), verifykit.KindUnavailable},
		{verifykit.New(verifykit.KindNotFound, "x"), verifykit.KindNotFound},
	} {
		err := storageError(tc.err)
		require.Equal(t, tc.want, verifykit.KindOf(err), "%v", tc.err)
		require.ErrorIs(t, err, tc.err, "the cause is kept")
	}
	require.NoError(t, storageError(nil))
}

func TestLoadMigrationsRejectsBadFiles(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"misnamed": {"m/1_a.sql": {Data: []byte("select 1")}},
		"gap":      {"m/001_a.sql": {Data: []byte("select 1")}, "m/003_b.sql": {Data: []byte("select 1")}},
		"twice":    {"m/001_a.sql": {Data: []byte("select 1")}, "m/001_b.sql": {Data: []byte("select 1")}},
		"no one":   {"m/002_a.sql": {Data: []byte("select 1")}},
	} {
		_, err := loadMigrations(fsys, "m")
		require.Error(t, err, name)
	}
	ms, err := loadMigrations(fstest.MapFS{"m/002_b.sql": {Data: []byte("b")}, "m/001_a.sql": {Data: []byte("a")}}, "m")
	require.NoError(t, err)
	require.Equal(t, []Migration{
		{1, "001_a.sql", "a", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"}, // sha256("a")
		{2, "002_b.sql", "b", "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"}, // sha256("b")
	}, ms)
}

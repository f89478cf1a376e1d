package postgres

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

func TestStorageErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error // the class of ports, nil for none
	}{
		{&pgconn.PgError{Code: "23505"}, nil},
		{&pgconn.PgError{Code: "22021"}, ports.ErrInvalidText},
		{&pgconn.PgError{Code: "22P05"}, ports.ErrInvalidText},
		{&pgconn.PgError{Code: "08006"}, ports.ErrUnavailable},
		{&pgconn.PgError{Code: "57P01"}, ports.ErrUnavailable},
		{&pgconn.PgError{Code: "57014"}, ports.ErrUnavailable},
		{&pgconn.PgError{Code: "53300"}, ports.ErrUnavailable},
		{&pgconn.PgError{Code: "40P01"}, ports.ErrUnavailable},
		{&pgconn.PgError{Code: "55P03"}, ports.ErrUnavailable},
		{&pgconn.PgError{Code: "42P01"}, nil},
		{context.Canceled, ports.ErrUnavailable},
		{errors.New("unexpected EOF"), ports.ErrUnavailable},
	} {
		err := storageError(tc.err)
		require.ErrorIs(t, err, tc.err, "the cause is kept")
		var ve *verifykit.Error
		require.False(t, errors.As(err, &ve), "no message for people: %v", err)
		for _, class := range []error{ports.ErrUnavailable, ports.ErrInvalidText} {
			require.Equal(t, class == tc.want, errors.Is(err, class), "%v is %v", tc.err, class)
		}
		require.Equal(t, err, storageError(err), "wrapped once")
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

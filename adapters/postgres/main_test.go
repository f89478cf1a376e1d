package postgres_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
)

// TestMain says, without -v, when the PostgreSQL tests skip.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestNoticeSaysWhenTheTestsSkip(t *testing.T) {
	t.Setenv(pgtest.EnvDSN, "")
	t.Setenv("CI", "")
	var b strings.Builder
	pgtest.Notice(&b)
	require.Contains(t, b.String(), "PostgreSQL tests skipped")
	require.Contains(t, b.String(), pgtest.EnvDSN+"=")
	require.Equal(t, 1, strings.Count(b.String(), "\n"), "one line")

	b.Reset()
	t.Setenv(pgtest.EnvDSN, "postgres://example")
	pgtest.Notice(&b)
	require.Empty(t, b.String(), "nothing to say when they run")
	t.Setenv(pgtest.EnvDSN, "")
	t.Setenv("CI", "true")
	pgtest.Notice(&b)
	require.Empty(t, b.String(), "with CI=true they fail instead")
}

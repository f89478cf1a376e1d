package deps_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	depcheck "github.com/verifykit/verifykit/internal/deps"
	"github.com/verifykit/verifykit/ports"
)

func TestCheckNamesEveryMissingDependency(t *testing.T) {
	var c depcheck.Check
	require.NoError(t, c.Err())
	c.Require("Store", true)
	c.Require("Clock", false)
	c.Require("Tokens", true)
	var ve *verifykit.Error
	require.ErrorAs(t, c.Err(), &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	require.Len(t, ve.Invalid, 2)
	require.Equal(t, "Store", ve.Invalid[0].Entry)
	require.Equal(t, "Tokens", ve.Invalid[1].Entry)
	require.Equal(t, verifykit.EntryConfig, ve.Invalid[0].EntryType)
}

func TestDefaults(t *testing.T) {
	require.Equal(t, ports.SystemClock{}, depcheck.ClockOr(nil))
	c := memory.NewClock(ports.SystemClock{}.Now())
	require.Same(t, c, depcheck.ClockOr(c))
	require.NotNil(t, depcheck.LoggerOr(nil))
}

package storeerr_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/internal/storeerr"
	"github.com/verifykit/verifykit/ports"
)

func TestWrap(t *testing.T) {
	cause := errors.New("connection reset by peer")
	err := storeerr.Wrap("postgres", ports.ErrUnavailable, cause)
	require.ErrorIs(t, err, ports.ErrUnavailable)
	require.ErrorIs(t, err, cause)
	require.NotErrorIs(t, err, ports.ErrInvalidText)
	require.EqualError(t, err, "postgres: store unavailable: connection reset by peer")
	require.Same(t, err, storeerr.Wrap("postgres", ports.ErrInvalidText, err), "wrapped once, the first class kept")

	plain := storeerr.Wrap("redis", nil, cause)
	require.ErrorIs(t, plain, cause)
	require.NotErrorIs(t, plain, ports.ErrUnavailable)
	require.EqualError(t, plain, "redis: connection reset by peer")
	require.NoError(t, storeerr.Wrap("redis", ports.ErrUnavailable, nil))
}

package ports_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/ports"
)

func TestRateRetention(t *testing.T) {
	var r ports.RateRetention
	require.Equal(t, ports.DefaultRateRetention, r.Keep(time.Minute), "the default while none is set")
	r.Set(time.Hour)
	require.Equal(t, time.Hour, r.Keep(time.Minute))
	require.Equal(t, 2*time.Hour, r.Keep(2*time.Hour), "never less than a window asked about")
	require.Equal(t, 2*time.Hour, r.Keep(time.Second), "nor than the longest one asked about before")
	r.Set(0)
	require.Equal(t, ports.DefaultRateRetention, r.Keep(0))
	r.Set(-time.Hour)
	require.Equal(t, ports.DefaultRateRetention, r.Keep(0), "a negative retention restores the default")
}

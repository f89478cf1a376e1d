package concurrent_test

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/concurrent"
)

// TestRunCallsEveryIndexOnceAndWaits: every i in 0..n-1 runs exactly once, and Run returns
// only after all of them.
func TestRunCallsEveryIndexOnceAndWaits(t *testing.T) {
	const n = 64
	var seen [n]atomic.Int32
	var total atomic.Int32
	concurrent.Run(n, func(i int) {
		seen[i].Add(1)
		total.Add(1)
	})
	require.Equal(t, int32(n), total.Load())
	for i := range seen {
		require.Equal(t, int32(1), seen[i].Load(), "index %d", i)
	}
}

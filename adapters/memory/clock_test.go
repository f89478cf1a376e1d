package memory_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := memory.NewClock(start)
	require.Equal(t, start, c.Now())
	require.Equal(t, start.Add(time.Hour), c.Advance(time.Hour))
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Advance(time.Second) }()
	}
	wg.Wait()
	require.Equal(t, start.Add(time.Hour+100*time.Second), c.Now(), "no advance is lost")
	c.Set(start)
	require.Equal(t, start, c.Now())
}

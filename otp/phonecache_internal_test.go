package otp

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPhoneCache(t *testing.T) {
	var c phoneCache
	p, err := c.parse("+380 93 123-45-85")
	require.NoError(t, err)
	require.Equal(t, "+380931234585", p.E164)
	again, err := c.parse("+380 93 123-45-85")
	require.NoError(t, err)
	require.Equal(t, p, again, "the remembered parse is the parse")
	_, err = c.parse("+12345")
	require.Error(t, err)
	require.Len(t, c.phones, 1, "a refused number is not remembered")
	for i := range phoneCacheSize + 10 {
		_, err := c.parse(fmt.Sprintf("+38093%07d", i))
		require.NoError(t, err)
	}
	require.Len(t, c.phones, phoneCacheSize, "bounded")
	require.NotContains(t, c.phones, "+380930000000", "the one remembered longest ago made room first")
	require.Contains(t, c.phones, fmt.Sprintf("+38093%07d", phoneCacheSize+9), "the latest is remembered")
	for _, k := range c.ring {
		_, ok := c.phones[k]
		require.True(t, ok, "every key in the ring is in the map")
	}
}

// TestPhoneCacheConcurrent parses the same numbers from several goroutines: the cache
// stays bounded, with each number remembered once.
func TestPhoneCacheConcurrent(t *testing.T) {
	const size = 64
	c := phoneCache{size: size}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 3 * size {
				_, err := c.parse(fmt.Sprintf("+38093%07d", i%(size+size/2)))
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.Len(t, c.phones, size)
	require.Len(t, c.ring, size)
	seen := map[string]bool{}
	for _, k := range c.ring {
		require.False(t, seen[k], "each number once in the ring")
		seen[k] = true
		_, ok := c.phones[k]
		require.True(t, ok)
	}
}

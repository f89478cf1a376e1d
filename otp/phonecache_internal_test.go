package otp

import (
	"fmt"
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
}

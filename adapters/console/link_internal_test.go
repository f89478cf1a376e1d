package console

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinkEscapesDotSegments(t *testing.T) {
	h := &Handler{base: "/console/"}
	require.Equal(t, "/console/reset-requests/%2E%2E/approve", h.link("reset-requests", "..", "approve"))
	require.Equal(t, "/console/profiles/%2E", h.link("profiles", "."))
	require.Equal(t, "/console/profiles/a%2Fb", h.link("profiles", "a/b"))
}

package memory_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
)

func TestTokens(t *testing.T) {
	tok := memory.NewTokens()
	scopes := []string{"a"}
	tok.Add("t1", ports.Claims{Subject: "s", Scopes: scopes})
	scopes[0] = "changed"
	c, err := tok.VerifyToken(context.Background(), "t1")
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, c.Scopes, "the table keeps its own copy")
	_, err = tok.VerifyToken(context.Background(), "nope")
	require.ErrorIs(t, err, memory.ErrUnknownToken)
	tok.Remove("t1")
	_, err = tok.VerifyToken(context.Background(), "t1")
	require.ErrorIs(t, err, memory.ErrUnknownToken)
}

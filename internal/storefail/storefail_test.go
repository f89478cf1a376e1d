package storefail_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/ports"
)

func TestWrap(t *testing.T) {
	own := verifykit.New(verifykit.KindConflict, "The request cannot be approved.")
	for _, tc := range []struct {
		name    string
		err     error
		kind    verifykit.Kind
		message string
	}{
		{"unavailable", fmt.Errorf("postgres: %w: %w", ports.ErrUnavailable, errors.New("connection reset")), verifykit.KindUnavailable, "Try later."},
		{"any other cause", errors.New("undefined table"), verifykit.KindUnavailable, "Try later."},
		{"a done context", context.Canceled, verifykit.KindUnavailable, "Try later."},
		{"invalid text", fmt.Errorf("postgres: %w: %w", ports.ErrInvalidText, errors.New("22021")), verifykit.KindInvalidInput, storefail.MsgInvalidText},
		{"an update function's error", fmt.Errorf("wrapped: %w", own), verifykit.KindConflict, own.Message},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := storefail.Wrap("Try later.", tc.err)
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, tc.kind, ve.Kind)
			require.Equal(t, tc.message, ve.Message)
			require.ErrorIs(t, err, tc.err, "the cause is kept")
		})
	}
	require.NoError(t, storefail.Wrap("Try later.", nil))
}

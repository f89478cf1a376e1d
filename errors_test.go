package verifykit_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
)

func TestErrorMatchesItsKindOnly(t *testing.T) {
	err := fmt.Errorf("loading: %w", verifykit.New(verifykit.KindNotFound, "Person request not found"))
	require.ErrorIs(t, err, verifykit.ErrNotFound)
	require.NotErrorIs(t, err, verifykit.ErrConflict)
	require.Equal(t, verifykit.KindNotFound, verifykit.KindOf(err))
	require.Equal(t, verifykit.KindInternal, verifykit.KindOf(errors.New("boom")))
	require.Equal(t, verifykit.KindNone, verifykit.KindOf(nil), "no error has no kind")
	require.Equal(t, verifykit.Kind(0), verifykit.KindNone, "the zero Kind means no error")
}

func TestErrorWithoutKindIsInternal(t *testing.T) {
	err := &verifykit.Error{Message: "something broke"}
	require.Equal(t, verifykit.KindInternal, verifykit.KindOf(err))
	require.ErrorIs(t, err, verifykit.ErrInternal)
	require.Equal(t, "internal", (&verifykit.Error{}).Error())
}

func TestWrapKeepsTheCause(t *testing.T) {
	cause := errors.New("connection reset")
	err := verifykit.Wrap(verifykit.KindUnavailable, "Storage is unavailable.", cause)
	require.ErrorIs(t, err, cause)
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.Equal(t, "Storage is unavailable.: connection reset", err.Error())
}

func TestUnavailable(t *testing.T) {
	require.NoError(t, verifykit.Unavailable("x", nil))
	domain := verifykit.New(verifykit.KindConflict, "incorrect status")
	require.Same(t, domain, verifykit.Unavailable("x", domain), "an *Error passes through")
	err := verifykit.Unavailable("Storage is unavailable.", errors.New("timeout"))
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
}

func TestValidationCollectsEveryEntry(t *testing.T) {
	var v verifykit.Validation
	require.NoError(t, v.Err())
	v.Required("$.fields[0]", "  ")
	v.Required("$.fields[1]", "contact.email")
	v.Add("$.fields[2]", "inclusion", "unknown profile field")
	err := v.Err()
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	require.Equal(t, "Validation failed.", ve.Message)
	require.Equal(t, []verifykit.InvalidEntry{
		{Entry: "$.fields[0]", EntryType: verifykit.EntryJSONProperty, Rule: "required", Description: "is required"},
		{Entry: "$.fields[2]", EntryType: verifykit.EntryJSONProperty, Rule: "inclusion", Description: "unknown profile field"},
	}, ve.Invalid)
	require.Equal(t, "Validation failed.: $.fields[0] is required; $.fields[2] unknown profile field", err.Error())
}

func TestErrorFields(t *testing.T) {
	e := &verifykit.Error{Kind: verifykit.KindRateLimited, RetryAfter: 30 * time.Second}
	require.Equal(t, "rate_limited", e.Error(), "the kind stands in for an empty message")
	require.Equal(t, "kind(200)", verifykit.Kind(200).String())
	for k := verifykit.KindNone; k <= verifykit.KindUnavailable; k++ {
		require.NotContains(t, k.String(), "kind(")
	}
}

func TestRenameEntry(t *testing.T) {
	orig := verifykit.Invalid("Invalid verification code", verifykit.InvalidEntry{Entry: "$.code", Rule: "verification"})
	err := verifykit.RenameEntry(fmt.Errorf("approve: %w", orig), "$.code", "$.verification_code")
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "$.verification_code", ve.Invalid[0].Entry)
	require.Equal(t, "Invalid verification code", ve.Message)
	require.Equal(t, "$.code", orig.Invalid[0].Entry, "the original is not changed")
	plain := errors.New("x")
	require.Same(t, plain, verifykit.RenameEntry(plain, "a", "b"))
	require.Same(t, orig, verifykit.RenameEntry(orig, "$.other", "b"), "nothing to rename: the same error")
}

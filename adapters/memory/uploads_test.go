package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/ports"
)

func TestUploadSigner(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	target := ports.UploadTarget{Resource: "person_request/abc", DocumentType: "person.PASSPORT", Version: 2}
	s := memory.NewUploadSigner()
	u, err := s.SignUploadURL(ctx, target, now.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u, memory.UploadBaseURL))

	got, err := s.Check(u, now)
	require.NoError(t, err)
	require.Equal(t, target, got)

	_, err = s.Check(u, now.Add(time.Hour))
	require.ErrorIs(t, err, memory.ErrUploadURLInvalid, "at its expiry a URL is invalid")
	_, err = s.Check(strings.Replace(u, "v=2", "v=3", 1), now)
	require.ErrorIs(t, err, memory.ErrUploadURLInvalid, "a changed URL is invalid")
	_, err = memory.NewUploadSigner().Check(u, now)
	require.ErrorIs(t, err, memory.ErrUploadURLInvalid, "another signer's URL is invalid")
	_, err = s.Check("https://elsewhere.example/x", now)
	require.ErrorIs(t, err, memory.ErrUploadURLInvalid)

	u2, err := s.SignUploadURL(ctx, ports.UploadTarget{Resource: target.Resource, DocumentType: target.DocumentType, Version: 3}, now.Add(time.Hour))
	require.NoError(t, err)
	require.NotEqual(t, u, u2, "versions give different URLs")
	require.Equal(t, 2, s.Signed())

	s.FailNext(1)
	_, err = s.SignUploadURL(ctx, target, now.Add(time.Hour))
	require.True(t, errors.Is(err, memory.ErrInjectedFailure))
	_, err = s.SignUploadURL(ctx, target, now.Add(time.Hour))
	require.NoError(t, err)
}

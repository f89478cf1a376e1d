package porttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// errorCase is one call of a store whose error package ports names.
type errorCase struct {
	name string
	call func(ctx context.Context) error
	// want is the error the call answers, matched with errors.Is; nil: none.
	want error
	// argument: the call is refused for its arguments, which a store may check before or
	// after the context (with a done context it answers want or context.Canceled).
	argument bool
}

// runErrorCases checks what package ports asks of every store's errors (see
// ports.ErrUnavailable), so that one failure reads alike with every adapter: each call
// answers its sentinel (errors.Is), and a done context answers context.Canceled; neither
// carries a *verifykit.Error of the adapter's own, since messages for people come from the
// domain.
func runErrorCases(t *testing.T, cases []errorCase) {
	t.Helper()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireStoreError(t, tc.call(context.Background()), tc.want)
			err := tc.call(done)
			if tc.argument && errors.Is(err, tc.want) {
				requireStoreError(t, err, tc.want)
				return
			}
			requireStoreError(t, err, context.Canceled)
		})
	}
}

// errorsCase is the case "Errors" of a suite: the calls of cases, on a fresh store, answer
// as runErrorCases checks.
func errorsCase[S any](cases func(t *testing.T, s S) []errorCase) suiteCase[S] {
	return suiteCase[S]{name: "Errors", run: func(t *testing.T, s S, _ Features) { runErrorCases(t, cases(t, s)) }}
}

// requireStoreError checks one error of a store: it matches want (nil: there is none) and
// holds no *verifykit.Error.
func requireStoreError(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		require.NoError(t, err)
		return
	}
	require.ErrorIs(t, err, want)
	var ve *verifykit.Error
	require.False(t, errors.As(err, &ve), "a store answers the sentinels of ports or wrapped causes, never a *verifykit.Error: %v", err)
}

// refuse is an update function that changes its record and fails.
func refuse[T any](r *T) error {
	var zero T
	*r = zero
	return errRefused
}

func otpStoreErrorCases(_ *testing.T, s ports.OTPStore) []errorCase {
	return []errorCase{
		{name: "GetNothingStored", call: func(ctx context.Context) error { _, err := s.Get(ctx, "p", "nobody"); return err }, want: ports.ErrNoCode},
		{name: "UpdateGivesFnsErrorBack", call: func(ctx context.Context) error {
			_, err := s.Update(ctx, "p", "nobody", refuse[ports.Verification])
			return err
		}, want: errRefused},
		{name: "PurgeExpired", call: func(ctx context.Context) error { _, err := s.PurgeExpired(ctx, otpBase, 10); return err }},
	}
}

func personRequestStoreErrorCases(t *testing.T, s ports.PersonRequestStore) []errorCase {
	stored := personRequest("6f1c2a52-0000-4000-8000-0000000000a1", ports.PersonRequestNew, base)
	require.NoError(t, s.Create(context.Background(), stored))
	return []errorCase{
		{name: "GetUnknown", call: func(ctx context.Context) error {
			_, err := s.Get(ctx, "6f1c2a52-0000-4000-8000-0000000000a2")
			return err
		}, want: ports.ErrPersonRequestNotFound},
		{name: "UpdateUnknown", call: func(ctx context.Context) error {
			_, err := s.Update(ctx, "6f1c2a52-0000-4000-8000-0000000000a2", func(*ports.PersonRequest) error { return nil })
			return err
		}, want: ports.ErrPersonRequestNotFound},
		{name: "UpdateGivesFnsErrorBack", call: func(ctx context.Context) error {
			_, err := s.Update(ctx, stored.ID, refuse[ports.PersonRequest])
			return err
		}, want: errRefused},
		{name: "CreateTaken", call: func(ctx context.Context) error { return s.Create(ctx, stored) }, want: ports.ErrPersonRequestExists},
	}
}

func processStoreErrorCases(t *testing.T, s ports.ProcessStore) []errorCase {
	stored := processRecord(processID(1), "org-a", base)
	require.NoError(t, s.Create(context.Background(), stored))
	return []errorCase{
		{name: "GetUnknown", call: func(ctx context.Context) error { _, err := s.Get(ctx, "org-a", processID(2)); return err }, want: ports.ErrProcessNotFound},
		{name: "GetOtherOrganisation", call: func(ctx context.Context) error { _, err := s.Get(ctx, "org-b", stored.ID); return err }, want: ports.ErrProcessNotFound},
		{name: "UpdateUnknown", call: func(ctx context.Context) error {
			_, err := s.Update(ctx, "org-a", processID(2), func(*ports.ProcessRecord) error { return nil })
			return err
		}, want: ports.ErrProcessNotFound},
		{name: "UpdateGivesFnsErrorBack", call: func(ctx context.Context) error {
			_, err := s.Update(ctx, "org-a", stored.ID, refuse[ports.ProcessRecord])
			return err
		}, want: errRefused},
		{name: "CreateTaken", call: func(ctx context.Context) error { return s.Create(ctx, stored) }, want: ports.ErrProcessExists},
	}
}

func profileStoreErrorCases(t *testing.T, st ProfileStores) []errorCase {
	require.NoError(t, st.Profiles.Create(context.Background(), sampleProfileRecord("stored")))
	return []errorCase{
		{name: "SeedTaken", call: func(ctx context.Context) error { return st.Profiles.Create(ctx, sampleProfileRecord("stored")) }, want: ports.ErrProfileExists},
		{name: "GetUnknown", call: func(ctx context.Context) error { _, err := st.Profiles.Get(ctx, "nobody"); return err }, want: ports.ErrProfileNotFound},
		{name: "UpdateUnknown", call: func(ctx context.Context) error {
			_, err := st.Profiles.Update(ctx, "nobody", func(*ports.ProfileRecord) error { return nil })
			return err
		}, want: ports.ErrProfileNotFound},
		{name: "ResetRequestUnknown", call: func(ctx context.Context) error {
			_, err := st.ResetRequests.Get(ctx, "00000000-0000-0000-0000-0000000000ff")
			return err
		}, want: ports.ErrResetRequestNotFound},
	}
}

func personStoreErrorCases(t *testing.T, s SeedablePersonStore) []errorCase {
	require.NoError(t, s.CreatePerson(context.Background(), person("stored")))
	return []errorCase{
		{name: "SeedTaken", call: func(ctx context.Context) error { return s.CreatePerson(ctx, person("stored")) }, want: ports.ErrPersonExists},
		{name: "PersonUnknown", call: func(ctx context.Context) error { _, err := s.Person(ctx, "nobody"); return err }, want: ports.ErrPersonNotFound},
	}
}

func authMethodStoreErrorCases(t *testing.T, s SeedableAuthMethodStore) []errorCase {
	stored := method("stored", "p1", ports.AuthMethodOTP, base)
	require.NoError(t, s.AddAuthMethod(context.Background(), stored))
	return []errorCase{
		{name: "SeedTaken", call: func(ctx context.Context) error { return s.AddAuthMethod(ctx, stored) }, want: ports.ErrAuthMethodExists},
		{name: "AuthMethodUnknown", call: func(ctx context.Context) error { _, err := s.AuthMethod(ctx, "nothing"); return err }, want: ports.ErrAuthMethodNotFound},
		{name: "AuthMethodsOfNobody", call: func(ctx context.Context) error { _, err := s.AuthMethods(ctx, "nobody"); return err }},
		{name: "UpdateGivesFnsErrorBack", call: func(ctx context.Context) error {
			_, err := s.UpdateAuthMethods(ctx, "nobody", func([]ports.AuthMethodRecord) error { return errRefused })
			return err
		}, want: errRefused},
	}
}

func confidantStoreErrorCases(t *testing.T, s SeedableConfidantStore) []errorCase {
	stored := relationship("stored", "child", "mother")
	require.NoError(t, s.AddConfidantRelationship(context.Background(), stored))
	return []errorCase{
		{name: "SeedTaken", call: func(ctx context.Context) error { return s.AddConfidantRelationship(ctx, stored) }, want: ports.ErrConfidantRelationshipExists},
		{name: "RelationshipsOfNobody", call: func(ctx context.Context) error { _, err := s.ConfidantRelationships(ctx, "nobody"); return err }},
	}
}

func rateLimiterErrorCases(_ *testing.T, l ports.RateLimiter) []errorCase {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var cases []errorCase
	for _, bad := range []ports.RateLimit{{Max: 0, Per: time.Second}, {Max: 1, Per: 0}, {Max: -1, Per: -1}} {
		cases = append(cases,
			errorCase{name: "AllowRefuses" + rateLimitName(bad), want: ports.ErrBadRateLimit, argument: true, call: func(ctx context.Context) error {
				_, err := l.Allow(ctx, "k", now, ports.RateLimit{Max: 1, Per: time.Minute}, bad)
				return err
			}},
			errorCase{name: "PeekRefuses" + rateLimitName(bad), want: ports.ErrBadRateLimit, argument: true, call: func(ctx context.Context) error {
				_, err := l.Peek(ctx, "k", now, bad)
				return err
			}})
	}
	return append(cases, errorCase{name: "UndoNothing", call: func(ctx context.Context) error { return l.Undo(ctx, "k", now) }})
}

func rateLimitName(l ports.RateLimit) string {
	switch {
	case l.Max <= 0 && l.Per <= 0:
		return "NoMaxNoPer"
	case l.Max <= 0:
		return "NoMax"
	}
	return "NoPer"
}

func outboxStoreErrorCases(_ *testing.T, st OutboxStores) []errorCase {
	s := st.Outbox
	return []errorCase{
		{name: "RedriveUnknown", call: func(ctx context.Context) error {
			return s.Redrive(ctx, "00000000-0000-4000-8000-0000000000ff", outboxStart)
		}, want: ports.ErrOutboxEntryNotFound},
		{name: "DeadLetters", call: func(ctx context.Context) error { _, err := s.DeadLetters(ctx, 10); return err }},
	}
}

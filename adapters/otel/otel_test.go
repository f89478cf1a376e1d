package otel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	vkotel "github.com/verifykit/verifykit/adapters/otel"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// TestFlowsProduceTheDocumentedSpans drives each flow's journey on the memory adapters and
// checks its use-case spans, their port-call children and the metrics they count.
func TestFlowsProduceTheDocumentedSpans(t *testing.T) {
	cases := []struct {
		name     string
		journey  func(*testing.T, *kit)
		parent   string
		children []string          // among the parent's children
		grand    map[string]string // child span -> a child it has
		metrics  map[string]int64  // at least these
	}{
		{
			name: "otp", journey: otpJourney, parent: "verifykit.otp.Verify",
			children: []string{"verifykit.store.Update"},
			metrics: map[string]int64{
				"verifykit.codes.issued{verifykit.code.purpose=login}":                                                                         1,
				"verifykit.codes.verified{verifykit.code.purpose=login}":                                                                       1,
				"verifykit.codes.failed{verifykit.code.failure_reason=wrong_code,verifykit.code.purpose=login}":                                1,
				"verifykit.messages.sent{verifykit.channel=sms,verifykit.outcome=sent}":                                                        1,
				"verifykit.delivery.duration{verifykit.channel=sms,verifykit.outcome=sent}":                                                    1,
				"verifykit.rate_limit.refusals{verifykit.limit=otp:send}":                                                                      1,
				"verifykit.operation.duration{verifykit.flow=otp,verifykit.operation=Verify,verifykit.outcome=ok}":                             1,
				"verifykit.operation.duration{error.type=invalid_input,verifykit.flow=otp,verifykit.operation=Verify,verifykit.outcome=error}": 1,
				"verifykit.operation.duration{error.type=rate_limited,verifykit.flow=otp,verifykit.operation=Issue,verifykit.outcome=error}":   1,
			},
		},
		{
			name: "otp issue", journey: otpJourney, parent: "verifykit.otp.Issue",
			children: []string{"verifykit.otp.Draw"},
			grand:    map[string]string{"verifykit.otp.Draw": "verifykit.limiter.DecideRates"},
		},
		{
			name: "otp issued", journey: otpJourney, parent: "verifykit.otp.Send",
			children: []string{"verifykit.sender.Send"},
		},
		{
			name: "personrequest", journey: personRequestJourney, parent: "verifykit.personrequest.ResendAuthMethod",
			children: []string{"verifykit.tokens.VerifyToken", "verifykit.store.Get", "verifykit.uploads.SignUploadURL",
				"verifykit.store.Update", "verifykit.otp.Draw", "verifykit.otp.Send"},
			grand: map[string]string{"verifykit.otp.Send": "verifykit.sender.Send", "verifykit.otp.Draw": "verifykit.limiter.DecideRates"},
			metrics: map[string]int64{
				"verifykit.codes.issued{verifykit.code.purpose=person_request}":                                                                           2,
				"verifykit.codes.verified{verifykit.code.purpose=person_request}":                                                                         1,
				"verifykit.codes.failed{verifykit.code.failure_reason=wrong_code,verifykit.code.purpose=person_request}":                                  1,
				"verifykit.messages.sent{verifykit.channel=sms,verifykit.outcome=sent}":                                                                   2,
				"verifykit.operation.duration{verifykit.flow=personrequest,verifykit.operation=Approve,verifykit.outcome=ok}":                             1,
				"verifykit.operation.duration{error.type=unauthorized,verifykit.flow=personrequest,verifykit.operation=Get,verifykit.outcome=error}":      1,
				"verifykit.operation.duration{error.type=invalid_input,verifykit.flow=personrequest,verifykit.operation=Approve,verifykit.outcome=error}": 1,
				"verifykit.operation.duration{verifykit.flow=personrequest,verifykit.operation=ResendAuthMethod,verifykit.outcome=ok}":                    1,
			},
		},
		{
			name: "authmethod", journey: authMethodJourney, parent: "verifykit.authmethod.Deactivate",
			children: []string{"verifykit.tokens.VerifyToken", "verifykit.store.Person", "verifykit.store.ConfidantRelationships", "verifykit.store.UpdateAuthMethods"},
			metrics: map[string]int64{
				"verifykit.operation.duration{verifykit.flow=authmethod,verifykit.operation=Deactivate,verifykit.outcome=ok}": 1,
				"verifykit.operation.duration{verifykit.flow=authmethod,verifykit.operation=Explain,verifykit.outcome=ok}":    1,
				"verifykit.operation.duration{verifykit.flow=authmethod,verifykit.operation=List,verifykit.outcome=ok}":       1,
			},
		},
		{
			name: "profile", journey: profileJourney, parent: "verifykit.identification.ResetIdentification",
			children: []string{"verifykit.tokens.VerifyToken", "verifykit.store.Update"},
			metrics: map[string]int64{
				"verifykit.operation.duration{verifykit.flow=identification,verifykit.operation=AskForReset,verifykit.outcome=ok}":          1,
				"verifykit.operation.duration{verifykit.flow=identification,verifykit.operation=ViewResetRequests,verifykit.outcome=ok}":    1,
				"verifykit.operation.duration{verifykit.flow=identification,verifykit.operation=UpdateProfile,verifykit.outcome=ok}":        1,
				"verifykit.operation.duration{verifykit.flow=identification,verifykit.operation=SubmitIdentification,verifykit.outcome=ok}": 1,
			},
		},
		{
			name: "process", journey: processJourney, parent: "verifykit.identification.Create",
			children: []string{"verifykit.tokens.VerifyToken", "verifykit.otp.Draw", "verifykit.store.Create", "verifykit.otp.Send"},
			grand:    map[string]string{"verifykit.otp.Send": "verifykit.sender.Send"},
			metrics: map[string]int64{
				"verifykit.codes.issued{verifykit.code.purpose=otp_identification}":                                                                         1,
				"verifykit.codes.verified{verifykit.code.purpose=otp_identification}":                                                                       1,
				"verifykit.codes.failed{verifykit.code.failure_reason=wrong_code,verifykit.code.purpose=otp_identification}":                                1,
				"verifykit.messages.sent{verifykit.channel=email,verifykit.outcome=sent}":                                                                   1,
				"verifykit.operation.duration{verifykit.flow=identification,verifykit.operation=Validate,verifykit.outcome=ok}":                             1,
				"verifykit.operation.duration{error.type=invalid_input,verifykit.flow=identification,verifykit.operation=Validate,verifykit.outcome=error}": 1,
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			tc.journey(t, k)
			parent := k.span(t, tc.parent)
			got := k.children(parent)
			for _, c := range tc.children {
				require.Contains(t, got, c, "children of %s", tc.parent)
			}
			for child, grand := range tc.grand {
				var found bool
				for _, s := range k.spans.Ended() {
					if s.Name() == child && s.Parent().SpanID() == parent.SpanContext().SpanID() {
						found = found || contains(k.children(s), grand)
					}
				}
				require.True(t, found, "%s > %s > %s", tc.parent, child, grand)
			}
			m := k.metrics(t)
			for key, want := range tc.metrics {
				require.Equal(t, want, m[key], "%s among %v", key, m)
			}
			// Every span of a use case is a root or a child of a use case or port span
			// recorded here: nothing is left dangling.
			ids := map[trace.SpanID]bool{}
			for _, s := range k.spans.Ended() {
				ids[s.SpanContext().SpanID()] = true
			}
			for _, s := range k.spans.Ended() {
				require.True(t, !s.Parent().IsValid() || ids[s.Parent().SpanID()], "the parent of %s", s.Name())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestErrorSetsStatusAndKind: a failed use case's span has the status Error with a fixed
// description, its kind in error.type, the code failure's reason, and no event that could
// carry the error's text.
func TestErrorSetsStatusAndKind(t *testing.T) {
	k := newKit(t)
	otpJourney(t, k)
	personRequestJourney(t, k)
	cases := []struct {
		name, span, kind, reason string
	}{
		{name: "wrong code", span: "verifykit.otp.Verify", kind: "invalid_input", reason: "wrong_code"},
		{name: "send limit", span: "verifykit.otp.Issue", kind: "rate_limited"},
		{name: "bad token", span: "verifykit.personrequest.Get", kind: "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := findFailed(k, tc.span)
			require.NotNil(t, s, "a failed %s", tc.span)
			require.Equal(t, codes.Error, s.Status().Code)
			require.Equal(t, "verifykit: "+tc.kind, s.Status().Description)
			require.Equal(t, tc.kind, attrOf(s, vkotel.AttrErrorType))
			require.Equal(t, "error", attrOf(s, vkotel.AttrOutcome))
			require.Equal(t, tc.reason, attrOf(s, vkotel.AttrFailureReason))
			require.Empty(t, s.Events())
		})
	}
	ok := k.span(t, "verifykit.personrequest.ResendAuthMethod")
	require.Equal(t, codes.Unset, ok.Status().Code)
	require.Equal(t, "ok", attrOf(ok, vkotel.AttrOutcome))
}

// findFailed returns the last ended span named name whose status is Error, or nil.
func findFailed(k *kit, name string) sdktrace.ReadOnlySpan {
	ended := k.spans.Ended()
	for i := len(ended) - 1; i >= 0; i-- {
		if ended[i].Name() == name && ended[i].Status().Code == codes.Error {
			return ended[i]
		}
	}
	return nil
}

// TestNoPersonalData scans every string recorded across the journeys of the four flows
// (span names, statuses, attributes, events, metric names and labels) for the codes,
// phones, e-mail addresses, tokens, document numbers and names the journeys used.
func TestNoPersonalData(t *testing.T) {
	k := newKit(t)
	otpJourney(t, k)
	personRequestJourney(t, k)
	authMethodJourney(t, k)
	profileJourney(t, k)
	processJourney(t, k)
	require.Greater(t, len(k.spans.Ended()), 50)
	require.NotEmpty(t, k.secrets)
	for _, s := range k.recorded(t) {
		require.Empty(t, containsAny(s, k.secrets), "recorded %q", s)
	}
}

// TestFailureReasons: every cause of a failed verification has its reason.
func TestFailureReasons(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{otp.ErrWrongCode, ports.ReasonWrongCode},
		{otp.ErrExpired, ports.ReasonExpired},
		{otp.ErrAttemptsExceeded, ports.ReasonAttemptsExceeded},
		{otp.ErrAlreadyUsed, ports.ReasonAlreadyUsed},
		{otp.ErrNoActiveCode, ports.ReasonNoActiveCode},
		{otp.ErrTooManyFailures, ports.ReasonTooManyFailures},
		{verifykit.Wrap(verifykit.KindInvalidInput, "x", otp.ErrExpired), ports.ReasonExpired},
		{errors.New("store down"), ""},
		{nil, ""},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, otp.FailureReason(tc.err), "%v", tc.err)
	}
}

// TestOrgIDIsKeptWhenPlain: the organisation of a process request is an attribute of its
// span, and an organisation id that is not short and plain is replaced.
func TestOrgIDIsKeptWhenPlain(t *testing.T) {
	k := newKit(t)
	processJourney(t, k)
	require.Equal(t, "acme", attrOf(k.span(t, "verifykit.identification.Validate"), vkotel.AttrOrgID))
	ctx, end := k.obs.Start(context.Background(), ports.Operation{Flow: "identification", Name: "Get", OrgID: "+380931234585 jane@example.com"})
	require.True(t, trace.SpanFromContext(ctx).SpanContext().IsValid())
	end(nil)
	require.Equal(t, "invalid", attrOf(k.span(t, "verifykit.identification.Get"), vkotel.AttrOrgID))
}

// TestPumpingGuardPausesAreCounted: a prefix the pumping guard pauses counts one pause,
// named by the guard, without the prefix.
func TestPumpingGuardPausesAreCounted(t *testing.T) {
	k := newKit(t)
	codes := memory.NewTestEngine(t, otp.Deps{SMS: memory.NewSMSOutbox(), Clock: memory.NewClock(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)), Observer: k.obs},
		func(cfg *otp.Config) {
			cfg.SendLimits = nil
			cfg.Pumping = otp.PumpingGuard{PrefixDigits: 5, MinSends: 3, MinConversion: 0.5, Window: time.Hour, CoolDown: time.Hour}
		})
	ctx := context.Background()
	var paused error
	for i := range 10 {
		_, err := codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: fmt.Sprint("u", i), Recipient: fmt.Sprintf("+38093123%04d", i)})
		if err != nil {
			paused = err
			break
		}
	}
	require.ErrorIs(t, paused, verifykit.ErrRateLimited, "none verified: the prefix pauses")
	require.Equal(t, int64(1), k.metrics(t)["verifykit.abuse.pauses{verifykit.limit=pumping_guard}"])
}

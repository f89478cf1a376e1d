package observe_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/internal/observe"
	"github.com/verifykit/verifykit/ports"
)

// useCase has the shape of every instrumented use case.
//
//go:noinline
func useCase(ctx context.Context, obs ports.Observer, fail bool) (err error) {
	ctx, end := obs.Start(ctx, ports.Operation{Flow: "personrequest", Name: "ResendAuthMethod"})
	defer func() { end(err) }()
	obs.Event(ctx, ports.Event{Kind: ports.EventCodeIssued, Purpose: "person_request"})
	if fail {
		return errFail
	}
	return nil
}

var errFail = errors.New("fail")

// TestNopObserverAllocatesNothing: a use case's Start, End and Event on the default
// observer allocate nothing.
func TestNopObserverAllocatesNothing(t *testing.T) {
	obs := observe.Or(nil)
	ctx := context.Background()
	for _, fail := range []bool{false, true} {
		allocs := testing.AllocsPerRun(1000, func() { _ = useCase(ctx, obs, fail) })
		require.Zero(t, allocs, "fail=%v", fail)
	}
}

// BenchmarkNopObserver is the cost of the instrumentation of one use case with the
// default observer.
func BenchmarkNopObserver(b *testing.B) {
	obs := observe.Or(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = useCase(ctx, obs, false)
	}
}

// TestNopLeavesPortsAsTheyAre: without an observer the ports are not wrapped at all.
func TestNopLeavesPortsAsTheyAre(t *testing.T) {
	store, limiter, sms := memory.NewOTPStore(), memory.NewRateLimiter(), memory.NewSMSOutbox()
	for _, obs := range []ports.Observer{nil, ports.NopObserver{}} {
		require.Equal(t, ports.OTPStore(store), observe.OTPStore(obs, "otp", store))
		require.Equal(t, ports.RateLimiter(limiter), observe.RateLimiter(obs, "otp", limiter))
		require.Equal(t, ports.Sender(sms), observe.Sender(obs, "otp", "sms", sms))
	}
	require.Nil(t, observe.Sender(&recorder{}, "otp", "sms", nil))
}

// recorder records what it is told.
type recorder struct {
	ops    []ports.Operation
	ends   []error
	events []ports.Event
}

func (r *recorder) Start(ctx context.Context, op ports.Operation) (context.Context, ports.End) {
	r.ops = append(r.ops, op)
	return ctx, func(err error) { r.ends = append(r.ends, err) }
}

func (r *recorder) Event(_ context.Context, e ports.Event) { r.events = append(r.events, e) }

// TestStoreCallbackErrorsAreNotStoreFailures: the error a callback returns through
// Update is the use case's answer; the store call itself succeeded.
func TestStoreCallbackErrorsAreNotStoreFailures(t *testing.T) {
	rec := &recorder{}
	store := observe.OTPStore(rec, "otp", memory.NewOTPStore())
	ctx := context.Background()
	_, err := store.Update(ctx, "p", "s", func(*ports.Verification) error { return errFail })
	require.ErrorIs(t, err, errFail)
	_, err = store.Get(ctx, "p", "s")
	require.ErrorIs(t, err, ports.ErrNoCode)
	require.Equal(t, []ports.Operation{
		{Flow: "otp", Name: "Update", Port: "store", Resource: "otp_code"},
		{Flow: "otp", Name: "Get", Port: "store", Resource: "otp_code"},
	}, rec.ops)
	require.Len(t, rec.ends, 2)
	require.NoError(t, rec.ends[0])
	require.ErrorIs(t, rec.ends[1], ports.ErrNoCode)
}

func TestLimitName(t *testing.T) {
	cases := map[string]string{
		"otp:send:3fa9c0":           "otp:send",
		"otp:recipient-failures:ab": "otp:recipient-failures",
		"+380931234585":             "other",
		":x":                        "other",
	}
	for key, want := range cases {
		require.Equal(t, want, observe.LimitName(key), key)
	}
}

func TestSendOutcome(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ports.OutcomeSent},
		{fmt.Errorf("gone: %w", ports.ErrPermanent), ports.OutcomePermanent},
		{context.DeadlineExceeded, ports.OutcomeInterrupted},
		{errors.New("busy"), ports.OutcomeTransient},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, observe.SendOutcome(tc.err), "%v", tc.err)
	}
}

// TestSenderEvents: each try of a sender is one EventMessageSent with its channel and
// outcome, never its recipient.
func TestSenderEvents(t *testing.T) {
	rec := &recorder{}
	outbox := memory.NewSMSOutbox()
	sms := observe.Sender(rec, "otp", "sms", outbox)
	outbox.FailNext(1, true)
	ctx := context.Background()
	require.Error(t, sms.Send(ctx, ports.Message{To: "+380931234585", Body: "code 123456"}))
	require.NoError(t, sms.Send(ctx, ports.Message{To: "+380931234585", Body: "code 123456"}))
	require.Len(t, rec.events, 2)
	for i, want := range []string{ports.OutcomePermanent, ports.OutcomeSent} {
		e := rec.events[i]
		require.Equal(t, ports.EventMessageSent, e.Kind)
		require.Equal(t, "sms", e.Channel)
		require.Equal(t, want, e.Outcome)
	}
}

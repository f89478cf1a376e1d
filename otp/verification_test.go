package otp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// drawn draws an external code for subject and puts it into v, as a flow does inside its
// record's Update; it returns the draft.
func (e *env) drawn(t *testing.T, v *ports.Verification, subject string) *otp.Draft {
	t.Helper()
	d, err := e.svc.DrawExternal(context.Background(), otp.IssueRequest{Purpose: "record", Subject: subject})
	require.NoError(t, err)
	e.svc.Put(v, d)
	return d
}

func requireNothingStored(t *testing.T, e *env) {
	t.Helper()
	n, err := e.store.PurgeExpired(context.Background(), start.Add(1000*time.Hour), -1)
	require.NoError(t, err)
	require.Zero(t, n, "the OTPStore holds nothing")
}

func TestDrawReservesASendAndStoresNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, err := e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1", Recipient: phone})
	require.NoError(t, err)
	require.NotEmpty(t, d.ID())
	require.Equal(t, start.Add(10*time.Minute), d.ExpiresAt())
	require.Empty(t, d.Code(), "a draft that Send delivers does not hand out its code")
	require.Empty(t, e.sms.Attempts(), "Draw sends nothing")
	requireNothingStored(t, e)
	_, err = e.store.Get(ctx, "record", "r1")
	require.ErrorIs(t, err, ports.ErrNoCode)

	// The send is reserved: the recipient's 30-second limit is used.
	requireRateLimited(t, e.svc.CheckSendLimit(ctx, phone), 30*time.Second)
	e.clock.Advance(10 * time.Second)
	_, err = e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r2", Recipient: phone})
	requireRateLimited(t, err, 20*time.Second)

	// The refused Draw recorded nothing: 30 seconds after the first, a Draw is allowed.
	e.clock.Set(start.Add(30 * time.Second))
	_, err = e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r2", Recipient: phone})
	require.NoError(t, err)
	requireNothingStored(t, e)
}

func TestDrawValidatesLikeIssue(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	entriesOf := func(err error) []string {
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve)
		require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
		var out []string
		for _, in := range ve.Invalid {
			out = append(out, in.Entry)
		}
		return out
	}
	_, err := e.svc.Draw(ctx, otp.IssueRequest{TTL: -time.Second, MaxAttempts: -1, Digits: 11})
	require.ElementsMatch(t, []string{"$.purpose", "$.subject", "$.recipient", "$.ttl", "$.max_attempts", "$.digits"}, entriesOf(err))
	_, err = e.svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "record", Recipient: strings.Repeat("x", 257)})
	require.ElementsMatch(t, []string{"$.subject", "$.recipient"}, entriesOf(err), "an external code needs no recipient")

	noSMS, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter()}, testConfig())
	require.NoError(t, err)
	require.False(t, noSMS.SendsSMS())
	_, err = noSMS.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1", Recipient: phone})
	require.Equal(t, []string{"$.send"}, entriesOf(err))
	require.NoError(t, noSMS.CheckSendLimit(ctx, phone), "a refused Draw reserved no send")
}

func TestDrawExternal(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, err := e.svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1", Digits: 8, TTL: time.Hour, MaxAttempts: 2})
	require.NoError(t, err)
	require.Len(t, d.Code(), 8)
	require.Equal(t, start.Add(time.Hour), d.ExpiresAt())
	requireNothingStored(t, e)

	var v ports.Verification
	require.Zero(t, e.svc.Put(&v, d))
	require.Equal(t, d.ID(), v.Code.ID)
	require.Equal(t, 2, v.Code.MaxAttempts)
	requireNoPlaintext(t, v, d.Code())

	// Without a recipient the send limits count per purpose and subject.
	_, err = e.svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1"})
	requireRateLimited(t, err, 30*time.Second)
	_, err = e.svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "record", Subject: "r2"})
	require.NoError(t, err, "another subject has limits of its own")

	res, err := e.svc.Check(&v, d.Code(), e.clock.Now())
	require.NoError(t, err)
	require.Equal(t, ports.CodeVerified, res.State)
}

func TestPutSupersedes(t *testing.T) {
	cases := []struct {
		name       string
		prev       func(t *testing.T, e *env, v *ports.Verification) string // leaves v's old code, returns it
		superseded int
	}{
		{"nothing before", func(*testing.T, *env, *ports.Verification) string { return "" }, 0},
		{"an active code", func(t *testing.T, e *env, v *ports.Verification) string {
			return e.drawn(t, v, "r1").Code()
		}, 1},
		{"a verified code", func(t *testing.T, e *env, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			_, err := e.svc.Check(v, code, e.clock.Now())
			require.NoError(t, err)
			return code
		}, 0},
		{"a blocked code", func(t *testing.T, e *env, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			for range 5 {
				_, _ = e.svc.CountFailure(v, e.clock.Now())
			}
			require.Equal(t, ports.CodeBlocked, v.Code.State)
			return code
		}, 0},
		{"an expired code", func(t *testing.T, e *env, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			_, err := e.svc.Check(v, code, v.Code.ExpiresAt)
			require.ErrorIs(t, err, otp.ErrExpired)
			return code
		}, 0},
		{"an undeliverable code", func(t *testing.T, e *env, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			require.True(t, otp.MarkUndeliverable(v, v.Code.ID))
			return code
		}, 0},
		{"an invalidated code", func(t *testing.T, e *env, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			require.True(t, otp.Invalidate(v))
			return code
		}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *otp.Config) { c.SendLimits = nil })
			var v ports.Verification
			old := tc.prev(t, e, &v)
			oldID := v.Code.ID
			failures := len(v.Failures)
			d, err := e.svc.DrawExternal(context.Background(), otp.IssueRequest{Purpose: "record", Subject: "r1"})
			require.NoError(t, err)
			require.Equal(t, tc.superseded, e.svc.Put(&v, d))
			require.Equal(t, d.ID(), v.Code.ID, "the new code is the latest")
			require.Equal(t, ports.CodeActive, v.Code.State)
			require.Zero(t, v.Code.Attempts)
			require.Len(t, v.Failures, failures, "a new code keeps the failure budget")
			if old == "" {
				return
			}
			require.NotEqual(t, oldID, v.Code.ID)
			if old != d.Code() {
				for range 3 {
					_, err := e.svc.Check(&v, old, e.clock.Now())
					require.ErrorIs(t, err, otp.ErrWrongCode, "the old code never verifies again")
				}
			}
			_, err = e.svc.Check(&v, d.Code(), e.clock.Now())
			require.NoError(t, err)
		})
	}
}

func TestPutCopiesTheHash(t *testing.T) {
	e := newEnv(t)
	d, err := e.svc.DrawExternal(context.Background(), otp.IssueRequest{Purpose: "record", Subject: "r1"})
	require.NoError(t, err)
	var v1, v2 ports.Verification
	e.svc.Put(&v1, d)
	v1.Code.Hash[0] ^= 0xff
	e.svc.Put(&v2, d)
	_, err = e.svc.Check(&v2, d.Code(), start)
	require.NoError(t, err, "changing one Verification's hash changes neither the draft nor another")
}

func TestReleaseGivesTheSendBack(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.SendLimits = []ports.RateLimit{{Max: 1, Per: time.Hour}} })
	ctx := context.Background()
	draw := func(subject string) (*otp.Draft, error) {
		return e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: subject, Recipient: phone})
	}
	d, err := draw("r1")
	require.NoError(t, err)
	_, err = draw("r2")
	requireRateLimited(t, err, time.Hour)

	// The record's Update failed a minute later: the send is given back.
	e.clock.Advance(time.Minute)
	e.svc.Release(ctx, d)
	require.NoError(t, e.svc.CheckSendLimit(ctx, phone))
	_, err = draw("r2")
	require.NoError(t, err, "a second Draw to the same recipient is allowed")
	_, err = draw("r3")
	requireRateLimited(t, err, time.Hour)

	// DrawExternal reservations are given back too, even with a cancelled context.
	x, err := e.svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "record", Subject: "r9"})
	require.NoError(t, err)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	e.svc.Release(cancelled, x)
	_, err = e.svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "record", Subject: "r9"})
	require.NoError(t, err)

	// Without send limits there is nothing to give back.
	free := newEnv(t, func(c *otp.Config) { c.SendLimits = nil })
	d, err = free.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1", Recipient: phone})
	require.NoError(t, err)
	require.NotPanics(t, func() { free.svc.Release(ctx, d) })
}

func TestSend(t *testing.T) {
	ctx := context.Background()
	t.Run("external draft sends nothing", func(t *testing.T) {
		e := newEnv(t)
		d, err := e.svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1", Recipient: phone})
		require.NoError(t, err)
		require.NoError(t, e.svc.Send(ctx, d))
		require.Empty(t, e.sms.Attempts())
	})
	t.Run("delivers the drawn code", func(t *testing.T) {
		e := newEnv(t)
		e.sms.FailNext(2, false)
		d, err := e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1", Recipient: phone})
		require.NoError(t, err)
		var v ports.Verification
		e.svc.Put(&v, d)
		require.NoError(t, e.svc.Send(ctx, d))
		attempts := e.sms.Attempts()
		require.Len(t, attempts, 3)
		for _, a := range attempts {
			require.Equal(t, d.ID(), a.IdempotencyKey, "one idempotency key for every try")
		}
		code := e.codeOf(t, phone)
		requireNoPlaintext(t, v, code)
		_, err = e.svc.Check(&v, code, start)
		require.NoError(t, err)
	})
	t.Run("custom sender and message", func(t *testing.T) {
		e := newEnv(t)
		var got []ports.Message
		d, err := e.svc.Draw(ctx, otp.IssueRequest{
			Purpose: "record", Subject: "r1", Recipient: "jane@example.com",
			Send:    func(_ context.Context, m ports.Message) error { got = append(got, m); return nil },
			Message: func(code string, ttl time.Duration) string { return "code:" + code + " ttl:" + ttl.String() },
		})
		require.NoError(t, err)
		require.Empty(t, got, "Draw sends nothing")
		require.NoError(t, e.svc.Send(ctx, d))
		require.Len(t, got, 1)
		require.Equal(t, "jane@example.com", got[0].To)
		require.True(t, strings.HasSuffix(got[0].Body, " ttl:10m0s"))
		require.Empty(t, e.sms.Attempts())
	})
	t.Run("permanent failure", func(t *testing.T) {
		e := newEnv(t)
		e.sms.FailNext(1, true)
		d, err := e.svc.Draw(ctx, otp.IssueRequest{Purpose: "record", Subject: "r1", Recipient: phone})
		require.NoError(t, err)
		err = e.svc.Send(ctx, d)
		require.ErrorIs(t, err, verifykit.ErrUnavailable)
		require.ErrorIs(t, err, otp.ErrUndeliverable)
		require.ErrorIs(t, err, ports.ErrPermanent)
		require.ErrorIs(t, err, memory.ErrInjectedFailure, "the sender's error stays reachable")
		require.NotContains(t, err.Error(), memory.ErrInjectedFailure.Error(), "but its text is not shown")
		require.Len(t, e.sms.Attempts(), 1)
		require.NotContains(t, e.logs.String(), phone)
	})
}

func TestMarkUndeliverable(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.SendLimits = nil })
	cases := []struct {
		name  string
		setup func(t *testing.T, v *ports.Verification) (id string)
		want  bool
	}{
		{"the active code", func(t *testing.T, v *ports.Verification) string { e.drawn(t, v, "r1"); return v.Code.ID }, true},
		{"another code's id", func(t *testing.T, v *ports.Verification) string { e.drawn(t, v, "r1"); return "other" }, false},
		{"a superseded code's id", func(t *testing.T, v *ports.Verification) string {
			old := e.drawn(t, v, "r1").ID()
			e.drawn(t, v, "r1")
			return old
		}, false},
		{"a verified code", func(t *testing.T, v *ports.Verification) string {
			d := e.drawn(t, v, "r1")
			_, err := e.svc.Check(v, d.Code(), start)
			require.NoError(t, err)
			return d.ID()
		}, false},
		{"an undeliverable code", func(t *testing.T, v *ports.Verification) string {
			e.drawn(t, v, "r1")
			v.Code.State = ports.CodeUndeliverable
			return v.Code.ID
		}, false},
		{"no code", func(*testing.T, *ports.Verification) string { return "" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v ports.Verification
			id := tc.setup(t, &v)
			before := v.Clone()
			require.Equal(t, tc.want, otp.MarkUndeliverable(&v, id))
			if !tc.want {
				require.Equal(t, before, v, "nothing changed")
				return
			}
			require.Equal(t, ports.CodeUndeliverable, v.Code.State)
			before.Code.State = ports.CodeUndeliverable
			require.Equal(t, before, v, "only the state changed")
			res, err := e.svc.CountFailure(&v, start)
			requireVerifyError(t, err, otp.ErrNoActiveCode, otp.MsgInvalidCode)
			require.False(t, res.Counted)
			require.Empty(t, v.Failures)
		})
	}
}

func TestParseCode(t *testing.T) {
	cases := []struct {
		in, want, rule string
	}{
		{in: "123456", want: "123456"},
		{in: " 123456\n", want: "123456"},
		{in: "\t0042  ", want: "0042"},
		{in: "0123456789", want: "0123456789"},
		{in: "", rule: "required"},
		{in: " \n\t", rule: "required"},
		{in: "123 456", rule: "format"},
		{in: "12\t3456", rule: "format"},
		{in: "12a456", rule: "format"},
		{in: "-12345", rule: "format"},
		{in: "１２３４５６", rule: "format"},
		{in: "123", rule: "format"},
		{in: "12345678901", rule: "format"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := otp.ParseCode(tc.in)
			if tc.rule == "" {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
			require.Len(t, ve.Invalid, 1)
			require.Equal(t, "$.code", ve.Invalid[0].Entry)
			require.Equal(t, tc.rule, ve.Invalid[0].Rule)
			renamed := verifykit.RenameEntry(err, "$.code", "$.verification_code")
			require.ErrorAs(t, renamed, &ve)
			require.Equal(t, "$.verification_code", ve.Invalid[0].Entry)

			// A malformed code counts no attempt, in Check as in Verify.
			e := newEnv(t)
			var v ports.Verification
			e.drawn(t, &v, "r1")
			before := v.Clone()
			res, err := e.svc.Check(&v, tc.in, start)
			require.ErrorIs(t, err, verifykit.ErrInvalidInput)
			require.NotErrorIs(t, err, otp.ErrWrongCode)
			require.False(t, res.Counted)
			require.Equal(t, before, v, "nothing changed")
		})
	}
}

// record is a caller's record holding its Verification, with its own lock: Check runs in
// the caller's critical section, and what it completes is stored with the code.
type record struct {
	mu       sync.Mutex
	v        ports.Verification
	approved int
}

func (r *record) approve(svc *otp.Service, code string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := r.v.Clone() // the copy an Update hands to fn
	_, err := svc.Check(&next, code, now)
	r.v = next // stored also when the check failed: a wrong code counts
	if err == nil {
		r.approved++
	}
	return err
}

func TestCheckInsideTheCallersCriticalSection(t *testing.T) {
	e := newEnv(t)
	r := &record{}
	d := e.drawn(t, &r.v, "r1")

	// 4 wrong guesses (one fewer than blocks the code) race 96 right ones.
	var n, ok, used, wrong, late atomic.Int32
	run(100, func() {
		if n.Add(1) <= 4 {
			switch err := r.approve(e.svc, "0000000", start); {
			case errors.Is(err, otp.ErrWrongCode):
				wrong.Add(1)
			case errors.Is(err, otp.ErrAlreadyUsed):
				late.Add(1)
			}
			return
		}
		switch err := r.approve(e.svc, d.Code(), start); {
		case err == nil:
			ok.Add(1)
		case errors.Is(err, otp.ErrAlreadyUsed):
			used.Add(1)
		}
	})
	require.EqualValues(t, 1, ok.Load(), "exactly once")
	require.EqualValues(t, 95, used.Load())
	require.EqualValues(t, 4, wrong.Load()+late.Load())
	require.Equal(t, 1, r.approved)
	require.Equal(t, ports.CodeVerified, r.v.Code.State)
	require.Equal(t, start, r.v.Code.UsedAt)
	require.Equal(t, int(wrong.Load()), r.v.Code.Attempts, "wrong codes counted on the code")
	require.Len(t, r.v.Failures, int(wrong.Load()), "and on the budget")
	require.True(t, e.svc.Completed(r.v, d.Code()))
}

func TestCheckRules(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.SendLimits = nil })
	now := start.Add(time.Minute)
	cases := []struct {
		name    string
		setup   func(t *testing.T, v *ports.Verification) string // returns the code to check
		at      time.Time
		cause   error
		state   ports.CodeState
		counted bool
	}{
		{"right code", func(t *testing.T, v *ports.Verification) string { return e.drawn(t, v, "r1").Code() }, now, nil, ports.CodeVerified, false},
		{"right code, spaced", func(t *testing.T, v *ports.Verification) string { return " " + e.drawn(t, v, "r1").Code() + "\n" }, now, nil, ports.CodeVerified, false},
		{"wrong code", func(t *testing.T, v *ports.Verification) string { e.drawn(t, v, "r1"); return "0000000" }, now, otp.ErrWrongCode, ports.CodeActive, true},
		{"at expiry", func(t *testing.T, v *ports.Verification) string { return e.drawn(t, v, "r1").Code() }, start.Add(10 * time.Minute), otp.ErrExpired, ports.CodeExpired, false},
		{"nothing issued", func(*testing.T, *ports.Verification) string { return "123456" }, now, otp.ErrNoActiveCode, "", false},
		{"used", func(t *testing.T, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			_, err := e.svc.Check(v, code, now)
			require.NoError(t, err)
			return code
		}, now, otp.ErrAlreadyUsed, ports.CodeVerified, false},
		{"blocked", func(t *testing.T, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			for range 5 {
				_, _ = e.svc.CountFailure(v, now)
			}
			return code
		}, now, otp.ErrAttemptsExceeded, ports.CodeBlocked, false},
		{"invalidated", func(t *testing.T, v *ports.Verification) string {
			code := e.drawn(t, v, "r1").Code()
			otp.Invalidate(v)
			return code
		}, now, otp.ErrNoActiveCode, ports.CodeSuperseded, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v ports.Verification
			code := tc.setup(t, &v)
			failures := len(v.Failures)
			res, err := e.svc.Check(&v, code, tc.at)
			if tc.cause == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, verifykit.ErrInvalidInput)
				require.ErrorIs(t, err, tc.cause)
			}
			require.Equal(t, tc.state, v.Code.State)
			require.Equal(t, tc.state, res.State)
			require.Equal(t, v.Code.ID, res.CodeID)
			require.Equal(t, tc.counted, res.Counted)
			if tc.counted {
				require.Len(t, v.Failures, failures+1)
			} else {
				require.Len(t, v.Failures, failures, "nothing counted against the budget")
			}
		})
	}
}

func TestCountFailureCountsLikeAWrongCode(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.SendLimits, c.FailureLimit = nil, ports.RateLimit{Max: 7, Per: time.Hour} })
	var byCheck, byCount ports.Verification
	d := e.drawn(t, &byCheck, "r1")
	e.svc.Put(&byCount, d)
	wrong := wrongCode(d.Code())
	for i := range 8 { // 5 attempts block the code; then the budget is used up after a resend
		now := start.Add(time.Duration(i) * time.Second)
		if i == 6 {
			d := e.drawn(t, &byCheck, "r1")
			e.svc.Put(&byCount, d)
			wrong = wrongCode(d.Code())
		}
		r1, err1 := e.svc.Check(&byCheck, wrong, now)
		r2, err2 := e.svc.CountFailure(&byCount, now)
		require.Equal(t, r1, r2, "attempt %d", i)
		require.Equal(t, err1, err2, "attempt %d", i)
		require.Equal(t, byCheck, byCount, "attempt %d", i)
	}
	require.Len(t, byCount.Failures, 7)
	_, err := e.svc.CountFailure(&byCount, start.Add(time.Minute))
	require.ErrorIs(t, err, otp.ErrTooManyFailures)
}

func TestCompleted(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.SendLimits = nil })
	var verified ports.Verification
	vd := e.drawn(t, &verified, "r1")
	_, err := e.svc.Check(&verified, vd.Code(), start)
	require.NoError(t, err)

	var active ports.Verification
	ad := e.drawn(t, &active, "r2")

	var blocked ports.Verification
	bd := e.drawn(t, &blocked, "r3")
	for range 5 {
		_, _ = e.svc.CountFailure(&blocked, start)
	}

	var wrongOnce ports.Verification
	wd := e.drawn(t, &wrongOnce, "r4")
	_, err = e.svc.Check(&wrongOnce, wrongCode(wd.Code()), start)
	require.ErrorIs(t, err, otp.ErrWrongCode)

	cases := []struct {
		name string
		v    ports.Verification
		code string
		want bool
	}{
		{"the code that verified", verified, vd.Code(), true},
		{"the code that verified, spaced", verified, " " + vd.Code() + "\n", true},
		{"a wrong code", verified, wrongCode(vd.Code()), false},
		{"a longer code", verified, vd.Code() + "0", false},
		{"a malformed code", verified, vd.Code()[:3] + "a" + vd.Code()[4:], false},
		{"an empty code", verified, "", false},
		{"an active code", active, ad.Code(), false},
		{"a blocked code", blocked, bd.Code(), false},
		{"an unverified code after a wrong one", wrongOnce, wd.Code(), false},
		{"no code", ports.Verification{}, vd.Code(), false},
		{"another record's verified code", verified, ad.Code(), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.v.Clone()
			require.Equal(t, tc.want, e.svc.Completed(tc.v, tc.code))
			require.Equal(t, before, tc.v, "Completed changes nothing")
		})
	}

	// A rotated secret still recognises the code; a removed one does not.
	rotate := func(secrets ...[]byte) *otp.Service {
		cfg := testConfig()
		cfg.Secrets = secrets
		s, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter()}, cfg)
		require.NoError(t, err)
		return s
	}
	require.True(t, rotate(secretB, secretA).Completed(verified, vd.Code()))
	require.False(t, rotate(secretB).Completed(verified, vd.Code()))
}

func TestUsedUpFailureBudgetIsRateLimited(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.SendLimits, c.FailureLimit = nil, ports.RateLimit{Max: 2, Per: time.Hour} })
	var v ports.Verification
	d := e.drawn(t, &v, "r1")
	_, err := e.svc.CountFailure(&v, start)
	require.ErrorIs(t, err, otp.ErrWrongCode)
	_, err = e.svc.Check(&v, wrongCode(d.Code()), start.Add(5*time.Minute))
	require.ErrorIs(t, err, otp.ErrWrongCode)

	for _, attempt := range []func(time.Time) (otp.VerifyResult, error){
		func(now time.Time) (otp.VerifyResult, error) { return e.svc.Check(&v, d.Code(), now) },
		func(now time.Time) (otp.VerifyResult, error) { return e.svc.CountFailure(&v, now) },
	} {
		res, err := attempt(start.Add(9 * time.Minute))
		require.ErrorIs(t, err, verifykit.ErrRateLimited)
		require.ErrorIs(t, err, otp.ErrTooManyFailures)
		requireRateLimited(t, err, 51*time.Minute)
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve)
		require.Contains(t, ve.Message, "3060s")
		require.False(t, res.Counted)
		require.Equal(t, 2, v.Code.Attempts, "a refused attempt is not counted")
		require.Len(t, v.Failures, 2)
		require.Equal(t, ports.CodeActive, v.Code.State)
	}

	// At start+1h the first failure leaves the window: the right code verifies, and the
	// failure that left is forgotten.
	_, err = e.svc.Check(&v, d.Code(), start.Add(time.Hour))
	require.ErrorIs(t, err, otp.ErrExpired, "the code itself expired meanwhile")
	e.clock.Set(start.Add(time.Hour))
	d = e.drawn(t, &v, "r1")
	_, err = e.svc.Check(&v, d.Code(), start.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []time.Time{start.Add(5 * time.Minute)}, v.Failures)
}

func TestKeepUntil(t *testing.T) {
	cases := []struct {
		name     string
		per      time.Duration
		failures []time.Duration // after start
		want     time.Duration   // after start
	}{
		{"no failure: the code's expiry", 24 * time.Hour, nil, 10 * time.Minute},
		{"a failure that counts longer", 24 * time.Hour, []time.Duration{time.Minute, 2 * time.Minute}, 2*time.Minute + 24*time.Hour},
		{"a failure that counts shorter", time.Minute, []time.Duration{time.Minute, 2 * time.Minute}, 10 * time.Minute},
		{"a failure that leaves the window at expiry", 8 * time.Minute, []time.Duration{2 * time.Minute}, 10 * time.Minute},
		{"a failure that leaves just after", 8 * time.Minute, []time.Duration{2*time.Minute + time.Second}, 10*time.Minute + time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *otp.Config) { c.FailureLimit = ports.RateLimit{Max: 100, Per: tc.per} })
			var v ports.Verification
			e.drawn(t, &v, "r1")
			require.Equal(t, start.Add(10*time.Minute), v.KeepUntil, "Put sets it")
			for _, f := range tc.failures {
				_, err := e.svc.CountFailure(&v, start.Add(f))
				require.Error(t, err)
			}
			require.Equal(t, start.Add(tc.want), v.KeepUntil)
		})
	}

	// A new code keeps the later of its own expiry and the last failure's window.
	e := newEnv(t, func(c *otp.Config) {
		c.SendLimits, c.FailureLimit = nil, ports.RateLimit{Max: 100, Per: 15 * time.Minute}
	})
	var v ports.Verification
	e.drawn(t, &v, "r1")
	_, _ = e.svc.CountFailure(&v, start.Add(time.Minute))
	require.Equal(t, start.Add(16*time.Minute), v.KeepUntil)
	e.clock.Set(start.Add(2 * time.Minute))
	e.drawn(t, &v, "r1")
	require.Equal(t, start.Add(16*time.Minute), v.KeepUntil, "the failure outlasts the new code")
	e.clock.Set(start.Add(7 * time.Minute))
	e.drawn(t, &v, "r1")
	require.Equal(t, start.Add(17*time.Minute), v.KeepUntil, "the new code outlasts the failure")
}

func TestSweepPurgesOnlyPastKeepUntil(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) { c.FailureLimit = ports.RateLimit{Max: 100, Per: time.Hour} })
	ctx := context.Background()
	_, code := e.issue(t, "quiet", phone)
	_, err := e.verify("quiet", code)
	require.NoError(t, err)
	_, code = e.issue(t, "failed", "+380501112233")
	_, err = e.verify("failed", wrongCode(code))
	require.ErrorIs(t, err, otp.ErrWrongCode)
	require.Equal(t, start.Add(10*time.Minute), e.stored(t, "quiet").KeepUntil)
	require.Equal(t, start.Add(time.Hour), e.stored(t, "failed").KeepUntil)

	sweep := func(at time.Time) int {
		e.clock.Set(at)
		n, err := e.svc.Sweep(ctx, 100)
		require.NoError(t, err)
		return n
	}
	require.Zero(t, sweep(start.Add(10*time.Minute-time.Nanosecond)))
	require.Equal(t, 1, sweep(start.Add(10*time.Minute)), "the quiet one at its KeepUntil")
	_, err = e.store.Get(ctx, "login", "quiet")
	require.ErrorIs(t, err, ports.ErrNoCode)
	require.Equal(t, ports.CodeExpired, func() ports.CodeState {
		_, err := e.verify("failed", code)
		require.ErrorIs(t, err, otp.ErrExpired)
		return e.stored(t, "failed").Code.State
	}(), "the expired code is kept while its failure counts")
	require.Zero(t, sweep(start.Add(time.Hour-time.Nanosecond)))
	require.Len(t, e.stored(t, "failed").Failures, 1)
	require.Equal(t, 1, sweep(start.Add(time.Hour)))
	_, err = e.store.Get(ctx, "login", "failed")
	require.ErrorIs(t, err, ports.ErrNoCode)
	require.Zero(t, sweep(start.Add(48*time.Hour)))

	// A batch bounds the deletions.
	for i := range 3 {
		_, err := e.svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "batch", Subject: string(rune('a' + i))})
		require.NoError(t, err)
	}
	e.clock.Advance(10 * time.Minute)
	n, err := e.svc.Sweep(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	n, err = e.svc.Sweep(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

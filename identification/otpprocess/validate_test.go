package otpprocess_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// inState returns a process of a new environment in state st, and its latest code.
func inState(t *testing.T, st otpprocess.State) (*env, otpprocess.Process, string) {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.svc.Create(ctx, otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e.actor(), ExpiresIn: "PT1H", Channel: sms})
	require.NoError(t, err)
	p := res.Process
	code := e.codeOf(t, p, res.Code)
	switch st {
	case otpprocess.StateValidated:
		_, err = e.validate(p, code, "")
	case otpprocess.StateCancelled:
		_, err = e.svc.Cancel(ctx, otpprocess.CancelRequest{Token: tokAdminA, OrgID: "org-a", ID: p.ID, Reason: "test"})
	case otpprocess.StateExpired:
		e.clock.Advance(time.Hour)
	case otpprocess.StateBlocked:
		for range 5 {
			_, err = e.validate(p, wrong(code), "")
		}
		requireKind(t, err, verifykit.KindInvalidInput, otp.MsgAttemptsExceeded)
		err = nil
	}
	require.NoError(t, err)
	require.Equal(t, st, e.get(t, p.ID).State)
	return e, p, code
}

func TestStateTable(t *testing.T) {
	ctx := context.Background()
	type action struct {
		name string
		run  func(e *env, p otpprocess.Process, code string) error
	}
	actions := []action{
		{"resend", func(e *env, p otpprocess.Process, _ string) error {
			e.clock.Advance(31 * time.Second) // past the engine's send spacing
			_, err := e.svc.Resend(ctx, otpprocess.Request{Token: tokAdminA, OrgID: "org-a", ID: p.ID})
			return err
		}},
		{"cancel", func(e *env, p otpprocess.Process, _ string) error {
			_, err := e.svc.Cancel(ctx, otpprocess.CancelRequest{Token: tokAdminA, OrgID: "org-a", ID: p.ID, Reason: "no longer needed"})
			return err
		}},
		{"delete", func(e *env, p otpprocess.Process, _ string) error {
			_, err := e.svc.Delete(ctx, otpprocess.DeleteRequest{Token: tokAdminAForce, OrgID: "org-a", ID: p.ID})
			return err
		}},
		{"force delete without permission", func(e *env, p otpprocess.Process, _ string) error {
			_, err := e.svc.Delete(ctx, otpprocess.DeleteRequest{Token: tokAdminA, OrgID: "org-a", ID: p.ID, Force: true})
			return err
		}},
		{"force delete with permission", func(e *env, p otpprocess.Process, _ string) error {
			_, err := e.svc.Delete(ctx, otpprocess.DeleteRequest{Token: tokAdminAForce, OrgID: "org-a", ID: p.ID, Force: true})
			return err
		}},
		{"validate", func(e *env, p otpprocess.Process, code string) error {
			_, err := e.validate(p, code, "")
			return err
		}},
		{"get", func(e *env, p otpprocess.Process, _ string) error {
			_, err := e.svc.Get(ctx, otpprocess.Request{Token: tokAdminA, OrgID: "org-a", ID: p.ID})
			return err
		}},
		{"metadata", func(e *env, p otpprocess.Process, _ string) error {
			_, err := e.svc.Metadata(ctx, otpprocess.Request{Token: tokActorA, OrgID: "org-a", ID: p.ID})
			return err
		}},
	}
	// After a successful action the process is in this state ("" = deleted; same = unchanged).
	const same, deleted = "same", ""
	type outcome struct {
		kind  verifykit.Kind // KindNone: success
		msg   string
		after otpprocess.State
	}
	ok := func(after otpprocess.State) outcome { return outcome{after: after} }
	conflict := func(verb string, st otpprocess.State) outcome {
		return outcome{verifykit.KindConflict, "The OTP identification process cannot be " + verb + ": it is " + string(st), same}
	}
	notForced := func(st otpprocess.State) outcome {
		return outcome{verifykit.KindForbidden, "The OTP identification process is " + string(st) + ": only force=true can delete it", same}
	}
	noPermission := outcome{verifykit.KindForbidden, "Your token does not allow to force the deletion. Missing permission: OTP_IDENTIFICATION_FORCE_DELETE", same}
	table := map[otpprocess.State][]outcome{
		otpprocess.StateCreated: {ok(same), ok(otpprocess.StateCancelled), ok(deleted), ok(deleted), ok(deleted), ok(otpprocess.StateValidated), ok(same), ok(same)},
	}
	for _, st := range []otpprocess.State{otpprocess.StateValidated, otpprocess.StateCancelled, otpprocess.StateExpired, otpprocess.StateBlocked} {
		table[st] = []outcome{conflict("resent", st), conflict("cancelled", st), notForced(st), noPermission, ok(deleted), conflict("validated", st), ok(same), ok(same)}
	}
	// Validating a VALIDATED process again with the code that validated it answers the
	// completed result (RULES §F, idempotent completion).
	table[otpprocess.StateValidated][5] = ok(same)
	for st, outcomes := range table {
		for i, a := range actions {
			want := outcomes[i]
			t.Run(string(st)+"/"+a.name, func(t *testing.T) {
				e, p, code := inState(t, st)
				err := a.run(e, p, code)
				if want.kind == verifykit.KindNone {
					require.NoError(t, err)
				} else {
					requireKind(t, err, want.kind, want.msg)
				}
				after := want.after
				if after == same {
					after = st
				}
				if after == deleted {
					_, err := e.svc.Get(ctx, otpprocess.Request{Token: tokAdminA, OrgID: "org-a", ID: p.ID})
					requireKind(t, err, verifykit.KindNotFound, otpprocess.MsgNotFound)
					_, err = e.validate(p, code, "")
					requireKind(t, err, verifykit.KindNotFound, otpprocess.MsgNotFound)
					return
				}
				require.Equal(t, after, e.get(t, p.ID).State)
			})
		}
	}
}

func TestExpiryIsStoredOnUse(t *testing.T) {
	e, p, code := inState(t, otpprocess.StateExpired)
	rec, err := e.store.Get(context.Background(), "org-a", p.ID)
	require.NoError(t, err)
	require.Equal(t, otpprocess.StateCreated, rec.State, "reads report EXPIRED without writing")
	_, err = e.validate(p, code, "")
	requireKind(t, err, verifykit.KindConflict, "The OTP identification process cannot be validated: it is EXPIRED")
	rec, err = e.store.Get(context.Background(), "org-a", p.ID)
	require.NoError(t, err)
	require.Equal(t, otpprocess.StateExpired, rec.State)
	require.Equal(t, start.Add(time.Hour), rec.UpdatedAt)

	// One instant before its expiry a process validates.
	e2 := newEnv(t)
	res, err := e2.svc.Create(context.Background(), otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: e2.actor(), ExpiresIn: "PT1H", Channel: sms})
	require.NoError(t, err)
	e2.clock.Advance(time.Hour - time.Nanosecond)
	_, err = e2.validate(res.Process, e2.codeOf(t, res.Process, res.Code), "")
	require.NoError(t, err)
}

func TestValidateSecondFactor(t *testing.T) {
	e := newEnv(t)
	withDoc := func(t *testing.T) (otpprocess.Process, string) {
		return e.create(t, sms, otpprocess.TwoFactorDocumentNumber)
	}
	t.Run("document number as people type it", func(t *testing.T) {
		for _, typed := range []string{"12345678Z", "12345678z", " 1234 5678 z ", "\t12345678Z\n"} {
			p, code := withDoc(t)
			md, err := e.validate(p, code, typed)
			require.NoError(t, err, typed)
			require.Equal(t, otpprocess.StateValidated, md.State)
		}
	})
	t.Run("e-mail as people type it", func(t *testing.T) {
		p, code := e.create(t, sms, otpprocess.TwoFactorEmail)
		_, err := e.validate(p, code, " "+strings.ToUpper(p.Actor.Email)+" ")
		require.NoError(t, err)
	})
	t.Run("wrong second factor counts an attempt and keeps the code", func(t *testing.T) {
		p, code := withDoc(t)
		_, err := e.validate(p, code, "12345678X")
		requireKind(t, err, verifykit.KindInvalidInput, otpprocess.MsgInvalidTwoFactor)
		require.ErrorIs(t, err, otpprocess.ErrSecondFactorMismatch)
		require.Equal(t, []verifykit.InvalidEntry{{Entry: "$.two_factor", EntryType: verifykit.EntryJSONProperty, Rule: "verification", Description: "does not match; 4 attempts left"}},
			err.(*verifykit.Error).Invalid)
		got := e.get(t, p.ID)
		require.Equal(t, otpprocess.StateCreated, got.State)
		require.Equal(t, 1, got.FailedAttempts)
		c := e.code(t, p.ID)
		require.Equal(t, 1, c.Attempts, "counted on the code")
		require.Equal(t, ports.CodeActive, c.State, "the right code was not used up")
		_, err = e.validate(p, code, "12345678Z")
		require.NoError(t, err)
	})
	t.Run("missing second factor is a bad request and counts nothing", func(t *testing.T) {
		p, code := withDoc(t)
		_, err := e.validate(p, code, "  ")
		requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
		require.Equal(t, []verifykit.InvalidEntry{{Entry: "$.two_factor", EntryType: verifykit.EntryJSONProperty, Rule: "required", Description: "is required by two_factor_type DOCUMENT_NUMBER"}},
			err.(*verifykit.Error).Invalid)
		require.Zero(t, e.get(t, p.ID).FailedAttempts)
	})
	t.Run("document image is kept for review", func(t *testing.T) {
		p, code := e.create(t, sms, otpprocess.TwoFactorDocumentImage)
		_, err := e.validate(p, code, "uploads/dni-front-back.png")
		require.NoError(t, err)
		require.Equal(t, "uploads/dni-front-back.png", e.get(t, p.ID).TwoFactorEvidence)
	})
	t.Run("wrong second factors and wrong codes block together", func(t *testing.T) {
		p, code := withDoc(t)
		for range 2 {
			_, err := e.validate(p, wrong(code), "12345678Z")
			requireKind(t, err, verifykit.KindInvalidInput, otp.MsgInvalidCode)
		}
		for range 2 {
			_, err := e.validate(p, code, "nope")
			requireKind(t, err, verifykit.KindInvalidInput, otpprocess.MsgInvalidTwoFactor)
		}
		_, err := e.validate(p, code, "nope")
		requireKind(t, err, verifykit.KindInvalidInput, otp.MsgAttemptsExceeded)
		got := e.get(t, p.ID)
		require.Equal(t, otpprocess.StateBlocked, got.State)
		require.Equal(t, 5, got.FailedAttempts)
		_, err = e.validate(p, code, "12345678Z")
		requireKind(t, err, verifykit.KindConflict, "The OTP identification process cannot be validated: it is BLOCKED")
	})
}

func TestValidateInput(t *testing.T) {
	e := newEnv(t)
	p, code := e.create(t, sms, "")
	for _, tc := range []struct{ code, rule string }{{"", "required"}, {"12ab56", "format"}, {"123", "format"}, {"12345678901", "format"}} {
		_, err := e.validate(p, tc.code, "")
		requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
		require.Equal(t, "$.code", err.(*verifykit.Error).Invalid[0].Entry)
		require.Equal(t, tc.rule, err.(*verifykit.Error).Invalid[0].Rule)
	}
	_, err := e.validate(p, wrong(code), "")
	requireKind(t, err, verifykit.KindInvalidInput, otp.MsgInvalidCode)
	require.ErrorIs(t, err, otp.ErrWrongCode)
	require.Equal(t, 1, e.get(t, p.ID).FailedAttempts, "only the well-formed wrong code counted")
	_, err = e.validate(p, " "+code+" ", "")
	require.NoError(t, err, "surrounding white space is trimmed")
	_, err = e.validate(p, code, "")
	require.NoError(t, err, "repeated with the code that validated it, validate answers the completed result")
	_, err = e.validate(p, wrong(code), "")
	requireKind(t, err, verifykit.KindConflict, "The OTP identification process cannot be validated: it is VALIDATED")
	_, err = e.validate(p, code[:2]+" "+code[2:], "")
	requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
}

func TestConcurrentValidationsSucceedOnce(t *testing.T) {
	e := newEnv(t)
	p, code := e.create(t, sms, otpprocess.TwoFactorDocumentNumber)
	const n = 50
	errs := make([]error, n)
	concurrent.Run(n, func(i int) { _, errs[i] = e.validate(p, code, "12345678Z") })
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		k := verifykit.KindOf(err)
		require.True(t, k == verifykit.KindConflict || k == verifykit.KindInvalidInput, "unexpected %v", err)
	}
	require.Equal(t, n, wins, "one validates, the others repeat the completed validation")
	got := e.get(t, p.ID)
	require.Equal(t, otpprocess.StateValidated, got.State)
	require.Equal(t, ports.CodeVerified, e.code(t, p.ID).State)
	require.Zero(t, got.FailedAttempts, "losing a race is not a failed attempt")
	_, err := e.validate(p, code, "00000000X")
	requireKind(t, err, verifykit.KindConflict, "The OTP identification process cannot be validated: it is VALIDATED")
}

func TestConcurrentWrongCodesBlockOnce(t *testing.T) {
	e := newEnv(t)
	p, code := e.create(t, sms, "")
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() { _, _ = e.validate(p, wrong(code), "") })
	}
	wg.Wait()
	got := e.get(t, p.ID)
	require.Equal(t, otpprocess.StateBlocked, got.State)
	require.Equal(t, 5, got.FailedAttempts, "every counted wrong code, and no more")
	require.Equal(t, 5, e.code(t, p.ID).Attempts, "attempts never pass the limit")
	_, err := e.validate(p, code, "")
	requireKind(t, err, verifykit.KindConflict, "")
}

func TestCodeTTLShorterThanProcess(t *testing.T) {
	e := newEnv(t, func(_ *otpprocess.Deps, c *otpprocess.Config, _ *otp.Config) {
		c.CodeTTL = time.Minute
	})
	p, code := e.create(t, sms, otpprocess.TwoFactorDocumentNumber)
	e.clock.Advance(time.Minute)
	_, right := e.validate(p, code, "12345678Z")
	requireKind(t, right, verifykit.KindInvalidInput, otp.MsgExpired)
	// Without a live code the answer must not tell a wrong second factor from a right one,
	// however often it is asked: the factor cannot be guessed that way.
	for range 50 {
		_, wrongFactor := e.validate(p, code, "wrong")
		require.Equal(t, right.Error(), wrongFactor.Error())
	}
	got := e.get(t, p.ID)
	require.Equal(t, otpprocess.StateCreated, got.State, "an expired code does not end the process")
	require.Zero(t, got.FailedAttempts, "nothing to count against without a live code")

	res, err := e.svc.Resend(context.Background(), otpprocess.Request{Token: tokAdminA, OrgID: "org-a", ID: p.ID})
	require.NoError(t, err)
	_, err = e.validate(p, e.codeOf(t, res.Process, res.Code), "12345678Z")
	require.NoError(t, err)
}

func TestCreateEmailFormat(t *testing.T) {
	e := newEnv(t)
	for addr, ok := range map[string]bool{
		"jane@example.com": true, "j.d+tag@mail.example.co.uk": true,
		"jane": false, "@example.com": false, "jane@": false, "jane@example": false, "jane@.com": false,
		"jane@example.": false, "ja ne@example.com": false, "a@b@example.com": false,
		strings.Repeat("j", 65) + "@example.com": false,
	} {
		a := e.actor()
		a.Email = addr
		_, err := e.svc.Create(context.Background(), otpprocess.CreateRequest{Token: tokAdminA, OrgID: "org-a", Actor: a,
			Channel: otpprocess.Channel{Type: otpprocess.ChannelEmail, External: true}})
		if ok {
			require.NoError(t, err, addr)
		} else {
			requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
		}
	}
}

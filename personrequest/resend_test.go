package personrequest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

const msgMissingWrite = "Your scope does not allow to access this resource. Missing allowances: person_request:write"

// TestResendRules checks every rule of RULES.md §A's resend, in the order of its steps:
// each case breaks its step and every later one, so a check done out of order would
// answer with a later step's error.
func TestResendRules(t *testing.T) {
	approved := func(t *testing.T, k *kit) string {
		r := k.newRequest(t)
		_, err := k.approve(r.ID, k.lastCode(t, phonePerson))
		require.NoError(t, err)
		return r.ID
	}
	cases := []struct {
		name  string
		token string
		id    func(t *testing.T, k *kit) string
		alias string
		typ   personrequest.AuthType
		kind  verifykit.Kind
		msg   string
		entry string
	}{
		{name: "empty token", token: "", id: approved, alias: "nope", kind: verifykit.KindUnauthorized, msg: "Invalid access token"},
		{name: "unknown token", token: "bogus", id: approved, alias: "nope", kind: verifykit.KindUnauthorized, msg: "Invalid access token"},
		{name: "expired token", token: tokExpired, id: approved, alias: "nope", kind: verifykit.KindUnauthorized, msg: "Invalid access token"},
		{name: "no scope", token: tokNone, id: approved, alias: "nope", kind: verifykit.KindForbidden, msg: msgMissingWrite},
		{name: "read scope only", token: tokReader, id: approved, alias: "nope", kind: verifykit.KindForbidden, msg: msgMissingWrite},
		{name: "missing request", token: tokWriter, id: func(*testing.T, *kit) string { return "00000000-0000-4000-8000-000000000000" }, alias: "nope", kind: verifykit.KindNotFound, msg: personrequest.MsgNotFound},
		{name: "empty id", token: tokWriter, id: func(*testing.T, *kit) string { return "" }, alias: "nope", kind: verifykit.KindNotFound, msg: personrequest.MsgNotFound},
		{name: "approved request", token: tokWriter, id: approved, alias: "nope", kind: verifykit.KindConflict, msg: "incorrect status"},
		{name: "unknown alias", token: tokWriter, alias: "nope", typ: personrequest.AuthOffline, kind: verifykit.KindInvalidInput, msg: "Validation failed.", entry: "$.alias"},
		{name: "unknown type", token: tokWriter, typ: "SMS", kind: verifykit.KindInvalidInput, msg: "Validation failed.", entry: "$.type"},
		{name: "alias of another type", token: tokWriter, alias: "mobile", typ: personrequest.AuthOffline, kind: verifykit.KindInvalidInput, msg: "Validation failed.", entry: "$.type"},
		{name: "OFFLINE by alias", token: tokWriter, alias: "documents", kind: verifykit.KindInvalidInput, msg: "Auth method is not OTP"},
		{name: "OFFLINE by type", token: tokWriter, typ: personrequest.AuthOffline, kind: verifykit.KindInvalidInput, msg: "Auth method is not OTP"},
		{name: "NA by alias", token: tokWriter, alias: "none", kind: verifykit.KindInvalidInput, msg: "Auth method is not OTP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			id := k.newRequest(t).ID
			if tc.id != nil {
				id = tc.id(t, k)
			}
			before, getErr := k.store.Get(k.ctx, id)
			sent := len(k.sms.Attempts())
			signed := k.signer.Signed()

			_, err := k.svc.ResendAuthMethod(k.ctx, personrequest.ResendRequest{Token: tc.token, ID: id, Alias: tc.alias, Type: tc.typ})
			e := requireErr(t, err, tc.kind, tc.msg)
			if tc.entry != "" {
				require.Len(t, e.Invalid, 1)
				require.Equal(t, tc.entry, e.Invalid[0].Entry)
			}
			require.Equal(t, sent, len(k.sms.Attempts()), "a refused resend sends nothing")
			require.Equal(t, signed, k.signer.Signed(), "a refused resend signs no URL")
			if getErr == nil {
				after, err := k.store.Get(k.ctx, id)
				require.NoError(t, err)
				require.Equal(t, before, after, "a refused resend changes nothing")
			}
		})
	}
}

func TestResendThirdPersonMethodNotOTP(t *testing.T) {
	k := newKit(t)
	third := thirdPerson()
	third.AuthMethods = []personrequest.AuthMethod{
		{Type: personrequest.AuthOffline, Alias: "papers", Primary: true},
		{Type: personrequest.AuthOTP, Phone: phoneThird},
	}
	r := k.create(t, person(), third)
	k.clock.Advance(time.Minute)
	_, err := k.resend(r.ID, "mother", "")
	requireErr(t, err, verifykit.KindInvalidInput, "Auth method is not OTP")
}

func TestResendDefaultsToPrimaryAndSavesChosenMethod(t *testing.T) {
	k := newKit(t)
	r := k.create(t, withPrimary(person(), 1), thirdPerson()) // OFFLINE primary: no code
	require.Empty(t, k.sms.Messages())
	require.Equal(t, personrequest.AuthOffline, r.CurrentAuthMethod.Type)

	_, err := k.resend(r.ID, "", "")
	requireErr(t, err, verifykit.KindInvalidInput, "Auth method is not OTP")

	got, err := k.resend(r.ID, "", personrequest.AuthOTP)
	require.NoError(t, err)
	require.Equal(t, "mobile", got.CurrentAuthMethod.Alias, "by type: the first OTP method")
	require.Equal(t, personrequest.UrgentAuthMethod{Type: personrequest.AuthOTP, Alias: "mobile", PhoneNumber: "+38093*****85"}, got.Urgent.AuthenticationMethodCurrent)
	k.lastCode(t, phonePerson)

	k.clock.Advance(time.Minute)
	got, err = k.resend(r.ID, "work", personrequest.AuthOTP)
	require.NoError(t, err)
	require.Equal(t, "work", got.CurrentAuthMethod.Alias)
	require.Equal(t, "+38067*****67", got.Urgent.AuthenticationMethodCurrent.PhoneNumber)
	require.Equal(t, "work", k.get(t, r.ID).CurrentAuthMethod.Alias, "the chosen method is saved")
	k.lastCode(t, phoneOther)
}

func TestResendUrgentBlock(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	got, err := k.resend(r.ID, "", "")
	require.NoError(t, err)
	require.Equal(t, personrequest.StatusNew, got.Status)
	require.Equal(t, personrequest.UrgentAuthMethod{Type: personrequest.AuthOTP, Alias: "mobile", PhoneNumber: "+38093*****85", Primary: true}, got.Urgent.AuthenticationMethodCurrent)
	require.Equal(t, []personrequest.UrgentAuthMethod{
		{Type: personrequest.AuthOTP, Alias: "mobile", PhoneNumber: "+38093*****85", Primary: true},
		{Type: personrequest.AuthOffline, Alias: "documents"},
		{Type: personrequest.AuthThirdPerson, Alias: "mother", PhoneNumber: "+38050*****33"},
		{Type: personrequest.AuthOTP, Alias: "work", PhoneNumber: "+38067*****67"},
		{Type: personrequest.AuthNA, Alias: "none"},
	}, got.Urgent.AuthenticationMethods)
	var types []string
	for _, d := range got.Urgent.Documents {
		types = append(types, d.Type)
		target, err := k.signer.Check(d.URL, k.clock.Now())
		require.NoError(t, err)
		require.Equal(t, "person_request/"+r.ID, target.Resource)
		require.Equal(t, d.Type, target.DocumentType)
		require.Equal(t, 2, target.Version, "the second generation of URLs")
	}
	require.Equal(t, []string{"person.PASSPORT", "person.TAX_ID", "third_person.PASSPORT"}, types)
}

func TestResendThenApproveOldCodeFailsNewSucceeds(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	oldCode := k.lastCode(t, phonePerson)
	_, err := k.resend(r.ID, "", "")
	require.NoError(t, err)
	newCode := k.lastCode(t, phonePerson)
	if newCode == oldCode {
		t.Skip("the new code happens to equal the old one (1 in a million)")
	}
	_, err = k.approve(r.ID, oldCode)
	requireErr(t, err, verifykit.KindInvalidInput, "Invalid verification code")
	require.Equal(t, personrequest.StatusNew, k.get(t, r.ID).Status)

	got, err := k.approve(r.ID, newCode)
	require.NoError(t, err)
	require.Equal(t, personrequest.StatusApproved, got.Status)
}

func TestResendToThirdPerson(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	before := len(k.sms.Messages())
	got, err := k.resend(r.ID, "mother", personrequest.AuthThirdPerson)
	require.NoError(t, err)
	msgs := k.sms.Messages()
	require.Len(t, msgs, before+1)
	require.Equal(t, phoneThird, msgs[len(msgs)-1].To, "the code goes to the third person's phone")
	require.Equal(t, personrequest.AuthThirdPerson, got.CurrentAuthMethod.Type)
	require.Equal(t, personrequest.UrgentAuthMethod{Type: personrequest.AuthThirdPerson, Alias: "mother", PhoneNumber: "+38050*****33"}, got.Urgent.AuthenticationMethodCurrent)

	_, err = k.approve(r.ID, k.lastCode(t, phonePerson))
	requireErr(t, err, verifykit.KindInvalidInput, "Invalid verification code")
	got, err = k.approve(r.ID, k.lastCode(t, phoneThird))
	require.NoError(t, err)
	require.Equal(t, personrequest.StatusApproved, got.Status)
}

func TestResendOnApprovedIsConflict(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	_, err := k.approve(r.ID, k.lastCode(t, phonePerson))
	require.NoError(t, err)
	_, err = k.resend(r.ID, "", "")
	requireErr(t, err, verifykit.KindConflict, "incorrect status")
}

func TestResendInvalidatesOlderUploadURLs(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	first := urls(r)
	require.Len(t, first, 3)
	for _, u := range first {
		ok, err := k.svc.UploadURLValid(k.ctx, r.ID, u)
		require.NoError(t, err)
		require.True(t, ok)
	}
	got, err := k.resend(r.ID, "", "")
	require.NoError(t, err)
	second := urls(got)
	require.Len(t, second, 3)
	for i := range first {
		require.NotEqual(t, first[i], second[i])
		ok, err := k.svc.UploadURLValid(k.ctx, r.ID, first[i])
		require.NoError(t, err)
		require.False(t, ok, "an URL issued before the resend is no longer valid")
		ok, err = k.svc.UploadURLValid(k.ctx, r.ID, second[i])
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = k.svc.UploadURLValid(k.ctx, "00000000-0000-4000-8000-000000000000", second[i])
		require.NoError(t, err)
		require.False(t, ok, "an URL is valid for its own request only")
	}
	require.Equal(t, second, urls(k.get(t, r.ID)))

	// URLs expire with their TTL, and die with the request's NEW status.
	k.clock.Advance(24*time.Hour - time.Nanosecond)
	ok, err := k.svc.UploadURLValid(k.ctx, r.ID, second[0])
	require.NoError(t, err)
	require.True(t, ok, "valid until its TTL")
	k.clock.Advance(time.Nanosecond)
	ok, err = k.svc.UploadURLValid(k.ctx, r.ID, second[0])
	require.NoError(t, err)
	require.False(t, ok, "at its TTL an URL is expired")
}

func TestResendUploadSignerFailure(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	code := k.lastCode(t, phonePerson)
	k.signer.FailNext(1)
	_, err := k.resend(r.ID, "", "")
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	require.Equal(t, urls(r), urls(k.get(t, r.ID)), "a failed signing keeps the old URLs")
	_, err = k.approve(r.ID, code)
	require.NoError(t, err, "and the old code: nothing was changed")
}

func TestResendSMSFailureLeavesNoValidCode(t *testing.T) {
	for _, permanent := range []bool{true, false} {
		t.Run(map[bool]string{true: "permanent", false: "transient"}[permanent], func(t *testing.T) {
			k := newKit(t)
			r := k.newRequest(t)
			oldCode := k.lastCode(t, phonePerson)
			k.sms.FailNext(10, permanent)
			_, err := k.resend(r.ID, "work", "")
			require.ErrorIs(t, err, verifykit.ErrUnavailable)
			require.ErrorIs(t, err, otp.ErrUndeliverable)

			got := k.get(t, r.ID)
			require.Equal(t, personrequest.StatusNew, got.Status, "the request stays NEW")
			require.Equal(t, "mobile", got.CurrentAuthMethod.Alias, "the chosen method is not saved")
			require.Equal(t, ports.CodeUndeliverable, k.code(t, r.ID).State, "no code is valid")
			_, err = k.approve(r.ID, oldCode)
			requireErr(t, err, verifykit.KindInvalidInput, "Invalid verification code")

			k.sms.FailNext(0, false)
			k.clock.Advance(time.Minute)
			_, err = k.resend(r.ID, "", "")
			require.NoError(t, err, "a later resend recovers")
			_, err = k.approve(r.ID, k.lastCode(t, phonePerson))
			require.NoError(t, err)
		})
	}
}

func TestResendRateLimited(t *testing.T) {
	k := newKit(t)
	r := k.create(t, person(), thirdPerson())
	before, err := k.svc.Get(context.Background(), personrequest.GetRequest{Token: tokWriter, ID: r.ID})
	require.NoError(t, err)
	_, err = k.resend(r.ID, "", "")
	e := requireErr(t, err, verifykit.KindRateLimited, "Too many verification codes were sent to this recipient; try again in 30s.")
	require.Equal(t, 30*time.Second, e.RetryAfter)
	after, err := k.svc.Get(context.Background(), personrequest.GetRequest{Token: tokWriter, ID: r.ID})
	require.NoError(t, err)
	require.Equal(t, before.Urgent.Documents, after.Urgent.Documents, "a refused resend changes nothing, the upload URLs included")

	k.clock.Advance(30 * time.Second)
	_, err = k.resend(r.ID, "", "")
	require.NoError(t, err)
	for range 3 {
		k.clock.Advance(30 * time.Second)
		_, err = k.resend(r.ID, "", "")
		require.NoError(t, err)
	}
	k.clock.Advance(30 * time.Second)
	_, err = k.resend(r.ID, "", "")
	require.ErrorIs(t, err, verifykit.ErrRateLimited, "5 sends per 10 minutes")
	var ve *verifykit.Error
	require.True(t, errors.As(err, &ve))
	require.Equal(t, 7*time.Minute+30*time.Second, ve.RetryAfter, "until the first send leaves the window")

	_, err = k.resend(r.ID, "mother", "")
	require.NoError(t, err, "another recipient has its own limit")
}

// TestConcurrentResendAndApprove races a resend with an approval that uses the code sent
// before the resend. Whatever the interleaving, the approval succeeds only if the old code
// was still the latest when it was checked, and a request is never approved once a newer
// code superseded the one presented.
func TestConcurrentResendAndApprove(t *testing.T) {
	k := newKit(t, func(_ *personrequest.Config, o *otp.Config) { o.SendLimits = nil })
	approvals := 0
	for round := range 40 {
		r := k.newRequest(t)
		oldCode, oldID := k.lastCode(t, phonePerson), k.code(t, r.ID).ID
		var approveErr, resendErr error
		concurrent.Run(2, func(i int) {
			if i == 0 {
				_, resendErr = k.resend(r.ID, "", "")
			} else {
				_, approveErr = k.approve(r.ID, oldCode)
			}
		})
		latest := k.code(t, r.ID)
		status := k.get(t, r.ID).Status
		if approveErr == nil {
			approvals++
			require.Equal(t, oldID, latest.ID, "round %d: approved with the first code, which was the latest when checked", round)
			require.Equal(t, ports.CodeVerified, latest.State)
			require.Equal(t, personrequest.StatusApproved, status)
			requireErr(t, resendErr, verifykit.KindConflict, personrequest.MsgIncorrectStatus)
		} else {
			requireErr(t, approveErr, verifykit.KindInvalidInput, "Invalid verification code")
			require.NoError(t, resendErr)
			require.NotEqual(t, oldID, latest.ID)
			require.Equal(t, ports.CodeActive, latest.State)
			require.Equal(t, personrequest.StatusNew, status)
		}
		k.clock.Advance(time.Minute)
	}
	t.Logf("%d of 40 approvals won the race", approvals)
}

// TestConcurrentResendsStayConsistent races resends of one request to two different
// phones. Each commits whole (or, having lost the race again and again, changes nothing);
// afterwards the request's current method is the one the only active code went to,
// whatever order the SMS went out in.
func TestConcurrentResendsStayConsistent(t *testing.T) {
	k := newKit(t, func(_ *personrequest.Config, o *otp.Config) {
		o.SendLimits = nil
		o.MaxSubjectsPerRecipient = 0 // 30 requests aimed at two phones within minutes
	})
	for round := range 30 {
		r := k.create(t, person(), thirdPerson())
		var errs [4]error
		concurrent.Run(4, func(i int) {
			alias := []string{"", "mother"}[i%2]
			_, errs[i] = k.resend(r.ID, alias, "")
		})
		succeeded := 0
		for _, err := range errs {
			if err == nil {
				succeeded++
				continue
			}
			requireErr(t, err, verifykit.KindConflict, personrequest.MsgResendInProgress)
		}
		require.Positive(t, succeeded, "round %d: one resend at least gets through", round)

		latest := k.code(t, r.ID)
		require.Equal(t, ports.CodeActive, latest.State, "round %d: the latest code is active", round)
		code, phone := k.codeOf(t, latest.ID)
		got := k.get(t, r.ID)
		require.Equal(t, ports.MaskPhone(phone), got.Urgent.AuthenticationMethodCurrent.PhoneNumber,
			"round %d: the current method is the one the active code went to", round)
		_, err := k.approve(r.ID, code)
		require.NoError(t, err)
	}
}

// TestFailedResendHoldsNothing: after a resend whose SMS failed, the next resend is judged
// by the send limits alone (RULES §F): no lock or lease outlives the call.
func TestFailedResendHoldsNothing(t *testing.T) {
	k := newKit(t)
	r := k.create(t, person(), thirdPerson())
	k.clock.Advance(31 * time.Second)
	k.sms.FailNext(1, true)
	_, err := k.resend(r.ID, "mother", "")
	require.ErrorIs(t, err, verifykit.ErrUnavailable)
	_, err = k.resend(r.ID, "mother", "")
	requireErr(t, err, verifykit.KindRateLimited, "Too many verification codes were sent to this recipient; try again in 30s.")
	_, err = k.resend(r.ID, "work", "")
	require.NoError(t, err, "another recipient's send limit allows it at once")
	k.clock.Advance(31 * time.Second)
	_, err = k.resend(r.ID, "mother", "")
	require.NoError(t, err, "the failed recipient only waits for its send spacing")
}

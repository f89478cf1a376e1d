package personrequest_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

func TestApproveCodeFailures(t *testing.T) {
	cases := []struct {
		name  string
		act   func(t *testing.T, k *kit, id, code string) error
		kind  verifykit.Kind
		msg   string
		cause error
	}{
		{name: "wrong code", kind: verifykit.KindInvalidInput, msg: "Invalid verification code", cause: otp.ErrWrongCode,
			act: func(t *testing.T, k *kit, id, code string) error { _, err := k.approve(id, wrong(code)); return err }},
		{name: "expired code", kind: verifykit.KindInvalidInput, msg: "Verification code expired", cause: otp.ErrExpired,
			act: func(t *testing.T, k *kit, id, code string) error {
				k.clock.Advance(15 * time.Minute)
				_, err := k.approve(id, code)
				return err
			}},
		{name: "three wrong attempts", kind: verifykit.KindInvalidInput, msg: "Maximum attempts exceed", cause: otp.ErrAttemptsExceeded,
			act: func(t *testing.T, k *kit, id, code string) error {
				for range 2 {
					_, err := k.approve(id, wrong(code))
					requireErr(t, err, verifykit.KindInvalidInput, "Invalid verification code")
				}
				_, err := k.approve(id, wrong(code))
				requireErr(t, err, verifykit.KindInvalidInput, "Maximum attempts exceed")
				_, err = k.approve(id, code)
				return err
			}},
		{name: "missing code", kind: verifykit.KindInvalidInput, msg: "Validation failed.",
			act: func(t *testing.T, k *kit, id, code string) error { _, err := k.approve(id, ""); return err }},
		{name: "malformed code", kind: verifykit.KindInvalidInput, msg: "Validation failed.",
			act: func(t *testing.T, k *kit, id, code string) error { _, err := k.approve(id, "12ab56"); return err }},
		{name: "no scope", kind: verifykit.KindForbidden, msg: msgMissingWrite,
			act: func(t *testing.T, k *kit, id, code string) error {
				_, err := k.svc.Approve(k.ctx, personrequest.ApproveRequest{Token: tokReader, ID: id, Code: code})
				return err
			}},
		{name: "expired token", kind: verifykit.KindUnauthorized, msg: "Invalid access token",
			act: func(t *testing.T, k *kit, id, code string) error {
				_, err := k.svc.Approve(k.ctx, personrequest.ApproveRequest{Token: tokExpired, ID: id, Code: code})
				return err
			}},
		{name: "missing request", kind: verifykit.KindNotFound, msg: personrequest.MsgNotFound,
			act: func(t *testing.T, k *kit, id, code string) error {
				_, err := k.approve("00000000-0000-4000-8000-000000000000", code)
				return err
			}},
		{name: "approved, then another code", kind: verifykit.KindConflict, msg: "incorrect status",
			act: func(t *testing.T, k *kit, id, code string) error {
				_, err := k.approve(id, code)
				require.NoError(t, err)
				_, err = k.approve(id, wrong(code))
				return err
			}},
		{name: "code with inner space", kind: verifykit.KindInvalidInput, msg: "Validation failed.",
			act: func(t *testing.T, k *kit, id, code string) error {
				_, err := k.approve(id, code[:3]+" "+code[3:])
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			r := k.newRequest(t)
			code := k.lastCode(t, phonePerson)
			err := tc.act(t, k, r.ID, code)
			requireErr(t, err, tc.kind, tc.msg)
			if tc.cause != nil {
				require.ErrorIs(t, err, tc.cause)
			}
			if tc.kind != verifykit.KindConflict {
				require.Equal(t, personrequest.StatusNew, k.get(t, r.ID).Status)
			}
		})
	}
}

// wrong returns a code of the same length that is not code.
func wrong(code string) string {
	if code[0] == '0' {
		return "1" + code[1:]
	}
	return "0" + code[1:]
}

func TestApproveWithCode(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	got, err := k.approve(r.ID, k.lastCode(t, phonePerson))
	require.NoError(t, err)
	require.Equal(t, personrequest.StatusApproved, got.Status)
	require.Equal(t, personrequest.StatusApproved, k.get(t, r.ID).Status)
	require.Equal(t, ports.CodeVerified, k.code(t, r.ID).State, "the code is consumed")
}

func TestApproveWithoutCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		primary int
	}{{"OFFLINE", 1}, {"NA", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			r := k.create(t, withPrimary(person(), tc.primary), thirdPerson())
			require.Empty(t, k.sms.Attempts(), "no code is sent to an %s method", tc.name)
			got, err := k.approve(r.ID, "")
			require.NoError(t, err)
			require.Equal(t, personrequest.StatusApproved, got.Status)
		})
	}
}

func TestApproveThirdPersonOfflineWithoutCode(t *testing.T) {
	k := newKit(t)
	third := thirdPerson()
	third.AuthMethods[0] = personrequest.AuthMethod{Type: personrequest.AuthOffline, Primary: true}
	r := k.create(t, withPrimary(person(), 2), third)
	require.Empty(t, k.sms.Attempts())
	_, err := k.approve(r.ID, "")
	require.NoError(t, err)
}

func TestApproveAfterResendToOTPNeedsCode(t *testing.T) {
	k := newKit(t)
	r := k.create(t, withPrimary(person(), 1), thirdPerson()) // OFFLINE primary
	_, err := k.resend(r.ID, "mobile", "")
	require.NoError(t, err)
	_, err = k.approve(r.ID, "")
	requireEntries(t, err, "$.verification_code required")
	_, err = k.approve(r.ID, k.lastCode(t, phonePerson))
	require.NoError(t, err)
}

// TestApproveIsIdempotent: approve repeated with the code that approved the request (its
// first answer lost, say) answers the approved request again and changes nothing (RULES
// §F); surrounding white space of a typed code does not matter.
func TestApproveIsIdempotent(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	code := k.lastCode(t, phonePerson)
	first, err := k.approve(r.ID, " "+code+"\n")
	require.NoError(t, err, "surrounding white space is trimmed")
	k.clock.Advance(time.Minute)
	again, err := k.approve(r.ID, code)
	require.NoError(t, err, "the completing call, repeated, succeeds")
	require.Equal(t, first, again, "with the same result")
	require.Equal(t, first.UpdatedAt, k.get(t, r.ID).UpdatedAt, "and changes nothing")
	_, err = k.approve(r.ID, wrong(code))
	requireErr(t, err, verifykit.KindConflict, personrequest.MsgIncorrectStatus)
	_, err = k.svc.Sign(k.ctx, personrequest.ActionRequest{Token: tokWriter, ID: r.ID})
	require.NoError(t, err)
	_, err = k.approve(r.ID, code)
	requireErr(t, err, verifykit.KindConflict, personrequest.MsgIncorrectStatus)
}

// TestConcurrentApproveSucceedsOnce: of concurrent approvals one moves the request; with a
// code, the others answer the completed result (idempotent), without an OTP method they are
// conflicts.
func TestConcurrentApproveSucceedsOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		primary int
	}{{"OTP", 0}, {"OFFLINE", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			r := k.create(t, withPrimary(person(), tc.primary), thirdPerson())
			code := ""
			if tc.primary == 0 {
				code = k.lastCode(t, phonePerson)
			}
			var wins, refused, others atomic.Int32
			concurrent.Run(30, func(int) {
				_, err := k.approve(r.ID, code)
				switch k := verifykit.KindOf(err); {
				case err == nil:
					wins.Add(1)
				case k == verifykit.KindConflict || k == verifykit.KindInvalidInput:
					refused.Add(1)
				default:
					others.Add(1)
				}
			})
			require.Zero(t, others.Load())
			require.Equal(t, 1, strings.Count(k.logs.String(), `msg="person request approved"`), "one approval is stored")
			if tc.primary == 0 {
				require.EqualValues(t, 30, wins.Load(), "the others repeat the completed approval")
				return
			}
			require.EqualValues(t, 1, wins.Load())
			require.EqualValues(t, 29, refused.Load())
		})
	}
}

func TestTransitions(t *testing.T) {
	type action func(k *kit, tok, id string) (personrequest.Request, error)
	sign := func(k *kit, tok, id string) (personrequest.Request, error) {
		return k.svc.Sign(k.ctx, personrequest.ActionRequest{Token: tok, ID: id})
	}
	reject := func(k *kit, tok, id string) (personrequest.Request, error) {
		return k.svc.Reject(k.ctx, personrequest.ActionRequest{Token: tok, ID: id})
	}
	cancel := func(k *kit, tok, id string) (personrequest.Request, error) {
		return k.svc.Cancel(k.ctx, personrequest.ActionRequest{Token: tok, ID: id})
	}
	approve := func(k *kit, _ string, id string) (personrequest.Request, error) {
		return k.approve(id, "")
	}
	// reach brings an OFFLINE request to status st.
	reach := func(t *testing.T, k *kit, st personrequest.Status) string {
		r := k.create(t, offlinePerson(), personrequest.Person{})
		var err error
		switch st {
		case personrequest.StatusApproved:
			_, err = approve(k, tokWriter, r.ID)
		case personrequest.StatusSigned:
			_, err = approve(k, tokWriter, r.ID)
			require.NoError(t, err)
			_, err = sign(k, tokWriter, r.ID)
		case personrequest.StatusRejected:
			_, err = reject(k, tokWriter, r.ID)
		case personrequest.StatusCancelled:
			_, err = cancel(k, tokWriter, r.ID)
		}
		require.NoError(t, err)
		return r.ID
	}
	all := []personrequest.Status{personrequest.StatusNew, personrequest.StatusApproved, personrequest.StatusSigned, personrequest.StatusRejected, personrequest.StatusCancelled}
	for _, tc := range []struct {
		name string
		act  action
		to   personrequest.Status
		from []personrequest.Status
	}{
		{"approve", approve, personrequest.StatusApproved, []personrequest.Status{personrequest.StatusNew}},
		{"sign", sign, personrequest.StatusSigned, []personrequest.Status{personrequest.StatusApproved}},
		{"reject", reject, personrequest.StatusRejected, []personrequest.Status{personrequest.StatusNew, personrequest.StatusApproved}},
		{"cancel", cancel, personrequest.StatusCancelled, []personrequest.Status{personrequest.StatusNew, personrequest.StatusApproved}},
	} {
		for _, from := range all {
			t.Run(tc.name+" from "+string(from), func(t *testing.T) {
				k := newKit(t)
				id := reach(t, k, from)
				got, err := tc.act(k, tokWriter, id)
				allowed := false
				for _, f := range tc.from {
					allowed = allowed || f == from
				}
				if !allowed {
					requireErr(t, err, verifykit.KindConflict, "incorrect status")
					require.Equal(t, from, k.get(t, id).Status)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tc.to, got.Status)
				require.Equal(t, tc.to, k.get(t, id).Status)
			})
		}
		t.Run(tc.name+" checks the token", func(t *testing.T) {
			k := newKit(t)
			id := reach(t, k, tc.from[0])
			if tc.name == "approve" {
				t.Skip("covered by TestApproveCodeFailures")
			}
			_, err := tc.act(k, tokExpired, id)
			requireErr(t, err, verifykit.KindUnauthorized, "Invalid access token")
			_, err = tc.act(k, tokReader, id)
			requireErr(t, err, verifykit.KindForbidden, msgMissingWrite)
			_, err = tc.act(k, tokWriter, "00000000-0000-4000-8000-000000000000")
			requireErr(t, err, verifykit.KindNotFound, personrequest.MsgNotFound)
		})
	}
}

func TestRejectAndCancelKillTheCode(t *testing.T) {
	for _, name := range []string{"reject", "cancel"} {
		t.Run(name, func(t *testing.T) {
			k := newKit(t)
			r := k.newRequest(t)
			req := personrequest.ActionRequest{Token: tokWriter, ID: r.ID}
			var err error
			if name == "reject" {
				_, err = k.svc.Reject(k.ctx, req)
			} else {
				_, err = k.svc.Cancel(k.ctx, req)
			}
			require.NoError(t, err)
			require.NotEqual(t, ports.CodeActive, k.code(t, r.ID).State)
			ok, err := k.svc.UploadURLValid(k.ctx, r.ID, urls(r)[0])
			require.NoError(t, err)
			require.False(t, ok, "upload URLs die with the NEW status")
		})
	}
}

func TestGet(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	got, err := k.svc.Get(k.ctx, personrequest.GetRequest{Token: tokReader, ID: r.ID})
	require.NoError(t, err)
	require.Equal(t, r.Urgent, got.Urgent)
	require.Equal(t, person(), got.Person)
	require.Equal(t, thirdPerson(), got.ThirdPerson)
	require.Equal(t, start.Add(30*24*time.Hour), got.ExpiresAt)

	_, err = k.svc.Get(k.ctx, personrequest.GetRequest{Token: tokNone, ID: r.ID})
	requireErr(t, err, verifykit.KindForbidden, "Your scope does not allow to access this resource. Missing allowances: person_request:read")
	_, err = k.svc.Get(k.ctx, personrequest.GetRequest{Token: "", ID: r.ID})
	requireErr(t, err, verifykit.KindUnauthorized, "Invalid access token")
	_, err = k.svc.Get(k.ctx, personrequest.GetRequest{Token: tokReader, ID: "nope"})
	requireErr(t, err, verifykit.KindNotFound, personrequest.MsgNotFound)

	got.Person.AuthMethods[0].Phone = "changed"
	require.Equal(t, phonePerson, k.get(t, r.ID).Person.AuthMethods[0].Phone, "results do not alias stored state")
}

// TestExpireSweepBoundary: an open request expires once it is strictly older than the
// lifetime; at exactly the lifetime it is still alive.
func TestExpireSweepBoundary(t *testing.T) {
	k := newKit(t, func(c *personrequest.Config, _ *otp.Config) { c.LifetimeDays = 2 })
	lifetime := 48 * time.Hour
	fresh := k.create(t, offlinePerson(), personrequest.Person{})
	approved := k.create(t, offlinePerson(), personrequest.Person{})
	_, err := k.approve(approved.ID, "")
	require.NoError(t, err)
	signed := k.create(t, offlinePerson(), personrequest.Person{})
	_, err = k.approve(signed.ID, "")
	require.NoError(t, err)
	_, err = k.svc.Sign(k.ctx, personrequest.ActionRequest{Token: tokWriter, ID: signed.ID})
	require.NoError(t, err)
	withCode := k.create(t, person(), thirdPerson())
	code := k.lastCode(t, phonePerson)

	k.clock.Set(start.Add(lifetime))
	res, err := k.svc.ExpireSweep(k.ctx, personrequest.ExpireSweepRequest{Batch: 10})
	require.NoError(t, err)
	require.Zero(t, res.Expired, "at exactly the lifetime nothing expires")
	require.Equal(t, personrequest.StatusNew, k.get(t, fresh.ID).Status)

	k.clock.Set(start.Add(lifetime + time.Nanosecond))
	_, err = k.svc.Get(k.ctx, personrequest.GetRequest{Token: tokReader, ID: fresh.ID})
	requireErr(t, err, verifykit.KindNotFound, personrequest.MsgNotFound)
	_, err = k.approve(fresh.ID, "")
	requireErr(t, err, verifykit.KindNotFound, personrequest.MsgNotFound)

	res, err = k.svc.ExpireSweep(k.ctx, personrequest.ExpireSweepRequest{Batch: 2})
	require.NoError(t, err)
	require.Equal(t, 2, res.Expired, "a sweep stops at its batch")
	res, err = k.svc.ExpireSweep(k.ctx, personrequest.ExpireSweepRequest{Batch: 2})
	require.NoError(t, err)
	require.Equal(t, 1, res.Expired)
	res, err = k.svc.ExpireSweep(k.ctx, personrequest.ExpireSweepRequest{Batch: 2})
	require.NoError(t, err)
	require.Zero(t, res.Expired)

	for _, id := range []string{fresh.ID, approved.ID, withCode.ID} {
		stored, err := k.store.Get(k.ctx, id)
		require.NoError(t, err)
		require.Equal(t, personrequest.StatusExpired, stored.Status)
		require.True(t, stored.Person.IsZero(), "personal data is wiped")
		require.True(t, stored.ThirdPerson.IsZero())
		require.Empty(t, stored.Uploads)
		_, err = k.svc.Get(k.ctx, personrequest.GetRequest{Token: tokReader, ID: id})
		requireErr(t, err, verifykit.KindNotFound, personrequest.MsgNotFound)
	}
	require.Equal(t, personrequest.StatusSigned, k.get(t, signed.ID).Status, "a signed request does not expire")
	require.NotEqual(t, ports.CodeActive, k.code(t, withCode.ID).State, "the codes of an expired request are dead")
	_ = code

	_, err = k.svc.ExpireSweep(k.ctx, personrequest.ExpireSweepRequest{})
	requireEntries(t, err, "$.batch positive")
}

func TestLogsHoldNoSecrets(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	first := k.lastCode(t, phonePerson)
	_, err := k.resend(r.ID, "mother", "")
	require.NoError(t, err)
	_, err = k.approve(r.ID, wrong(k.lastCode(t, phoneThird)))
	require.Error(t, err)
	_, err = k.approve(r.ID, k.lastCode(t, phoneThird))
	require.NoError(t, err)
	logs := k.logs.String()
	require.Contains(t, logs, "person request approved")
	for _, secret := range []string{phonePerson, phoneThird, first, k.lastCode(t, phoneThird), "AB123456", tokWriter} {
		require.False(t, strings.Contains(logs, secret), "logs hold %q", secret)
	}
}

func TestApproveNamesTheCodeByItsOwnField(t *testing.T) {
	k := newKit(t)
	r := k.newRequest(t)
	code := k.lastCode(t, phonePerson)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	_, err := k.approve(r.ID, wrong)
	e := requireErr(t, err, verifykit.KindInvalidInput, "Invalid verification code")
	require.Equal(t, "$.verification_code", e.Invalid[0].Entry, "the approval's field, not the engine's")
}

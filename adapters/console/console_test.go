package console_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/console"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/ports"
)

func TestNewChecksOptions(t *testing.T) {
	k := newKit(t)
	tokens := memory.NewTokens()
	cases := []struct {
		name  string
		svc   console.Services
		opts  console.Options
		entry string
	}{
		{"no token verifier", k.svc, console.Options{}, "Tokens"},
		{"no service", console.Services{}, console.Options{Tokens: tokens}, "Services"},
		{"base path without a trailing slash", k.svc, console.Options{Tokens: tokens, BasePath: "/console"}, "BasePath"},
		{"relative base path", k.svc, console.Options{Tokens: tokens, BasePath: "console/"}, "BasePath"},
		{"base path with a pattern", k.svc, console.Options{Tokens: tokens, BasePath: "/{x}/"}, "BasePath"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := console.New(tc.svc, tc.opts)
			require.Nil(t, h)
			var ve *verifykit.Error
			require.ErrorAs(t, err, &ve)
			require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
			var entries []string
			for _, e := range ve.Invalid {
				entries = append(entries, e.Entry)
			}
			require.Contains(t, entries, tc.entry)
		})
	}
}

func TestSignInAndOut(t *testing.T) {
	k := newKit(t)
	t.Run("the sign-in page", func(t *testing.T) {
		a := k.request(t, "GET", "/console/signin", "", nil)
		require.Equal(t, http.StatusOK, a.status)
		require.Contains(t, a.body, `name="token"`)
		require.Contains(t, a.body, `method="post" action="/console/signin"`)
	})
	t.Run("a valid token is kept in a strict, secure, HttpOnly cookie", func(t *testing.T) {
		a := k.request(t, "POST", "/console/signin", "", url.Values{"token": {tokA}})
		require.Equal(t, http.StatusSeeOther, a.status)
		require.Equal(t, "/console/", a.header.Get("Location"))
		res := http.Response{Header: a.header}
		cookies := res.Cookies()
		require.Len(t, cookies, 1)
		c := cookies[0]
		require.Equal(t, "verifykit_console", c.Name)
		require.True(t, c.HttpOnly)
		require.True(t, c.Secure)
		require.Equal(t, http.SameSiteStrictMode, c.SameSite)
		require.Equal(t, "/console/", c.Path)
		raw, err := base64.RawURLEncoding.DecodeString(c.Value)
		require.NoError(t, err)
		require.Equal(t, tokA, string(raw))
		require.NotContains(t, a.header.Get("Location"), tokA, "the token is never in a URL")
	})
	t.Run("a pasted Bearer prefix is dropped", func(t *testing.T) {
		a := k.request(t, "POST", "/console/signin", "", url.Values{"token": {"Bearer " + tokA}})
		require.Equal(t, http.StatusSeeOther, a.status)
	})
	for _, tc := range []struct{ name, token string }{
		{"an unknown token", "who-knows"}, {"an expired token", tokExpired}, {"no token", ""},
	} {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			a := k.request(t, "POST", "/console/signin", "", url.Values{"token": {tc.token}})
			require.Equal(t, http.StatusUnauthorized, a.status)
			require.Contains(t, a.body, "Invalid access token")
			require.Empty(t, a.header.Values("Set-Cookie"))
		})
	}
	t.Run("pages send those not signed in to the sign-in page", func(t *testing.T) {
		for _, p := range []string{"/console/", "/console/reset-requests", "/console/processes", "/console/person-requests/" + personRequest} {
			a := k.request(t, "GET", p, "", nil)
			require.Equal(t, http.StatusSeeOther, a.status, p)
			require.Equal(t, "/console/signin", a.header.Get("Location"), p)
		}
	})
	t.Run("a cookie whose token expired is forgotten", func(t *testing.T) {
		a := k.request(t, "GET", "/console/reset-requests", tokExpired, nil)
		require.Equal(t, http.StatusSeeOther, a.status)
		res := http.Response{Header: a.header}
		require.Len(t, res.Cookies(), 1)
		require.Negative(t, res.Cookies()[0].MaxAge)
	})
	t.Run("signing out clears the cookie", func(t *testing.T) {
		a := k.request(t, "POST", "/console/signout", tokA, url.Values{})
		require.Equal(t, http.StatusSeeOther, a.status)
		require.Equal(t, "/console/signin?done=signedout", a.header.Get("Location"))
		res := http.Response{Header: a.header}
		require.Len(t, res.Cookies(), 1)
		c := res.Cookies()[0]
		require.Equal(t, "verifykit_console", c.Name)
		require.Negative(t, c.MaxAge)
		require.Empty(t, c.Value)
		require.Contains(t, k.request(t, "GET", "/console/signin?done=signedout", "", nil).body, "Signed out.")
	})
}

func TestPages(t *testing.T) {
	k := newKit(t)
	cases := []struct {
		name, path, token string
		status            int
		contains          []string
		absent            []string
	}{
		{"home", "/console/", tokA, 200, []string{"alice", orgA, "/console/reset-requests", "/console/processes", "/console/person-requests"}, nil},
		{"pending reset requests of the operator's organisation", "/console/reset-requests", tokA, 200,
			[]string{"3 requests", "user-anna", "user-bob", "user-eve", "I moved to Lviv", "/console/reset-requests/user-anna/" + k.resetRequests["user-anna"] + "/decline"},
			[]string{"user-zed"}},
		{"filtered by another status", "/console/reset-requests?status=DECLINED", tokA, 200, []string{"0 requests", "No reset requests match."}, []string{"user-anna"}},
		{"sorted by user, descending, paged", "/console/reset-requests?sort=userId&order=desc&size=2&page=0", tokA, 200,
			[]string{"page 1 of 2", "user-eve", "user-bob", "Next →", "page=1"}, []string{"user-anna"}},
		{"the second page", "/console/reset-requests?sort=userId&order=desc&size=2&page=1", tokA, 200,
			[]string{"page 2 of 2", "user-anna", "← Previous"}, []string{"user-bob"}},
		{"a platform operator sees every organisation", "/console/reset-requests", tokPlatform, 200, []string{"4 requests", "user-zed", "platform operator"}, nil},
		{"a bad page number is the service's refusal", "/console/reset-requests?page=x", tokA, 422, []string{"$.pageNumber"}, nil},
		{"a bad sort order is the service's refusal", "/console/reset-requests?order=up", tokA, 422, []string{"$.sort.createdAt", "must be asc or desc"}, nil},
		{"no permission", "/console/reset-requests", tokNothing, 403, []string{"Missing allowances: RESET_IDENTIFICATION_INITIATOR"}, nil},
		{"profile lookup", "/console/profiles", tokA, 200, []string{`name="user"`}, nil},
		{"the reset form lists the resettable fields", "/console/profiles/user-anna", tokA, 200,
			[]string{`value="person.namePlain.first"`, `value="address.city"`, `value="contact.email"`, `action="/console/profiles/user-anna/reset"`},
			[]string{`value="status"`, `value="type"`, `value="contact.id"`}},
		{"person request lookup", "/console/person-requests", tokA, 200, []string{`name="id"`, "looked up by id"}, nil},
		{"a person request", "/console/person-requests/" + personRequest, tokA, 200,
			[]string{"NEW", "Petro Ivanenko", "Oksana Ivanenko", "&#43;38093*****85", "&#43;38050*****33", "own phone", "mother", "Resend code here",
				"person.BIRTH_CERTIFICATE", "third_person.PASSPORT", "current"},
			[]string{"1234585", "1112233", "I-AB 123456"}},
		{"an unknown person request", "/console/person-requests/5d6a4a7e-0000-4f3d-8e9a-0b1c2d3e4f50", tokA, 404, []string{"Person request not found"}, nil},
		{"person requests without the scope", "/console/person-requests/" + personRequest, tokNothing, 403, []string{"person_request:read"}, nil},
		{"processes of the token's organisation", "/console/processes", tokA, 200,
			[]string{"2 processes", `value="org-a"`, "Ana Ruiz", "Luis Ruiz", "CREATED", "CANCELLED"}, []string{"Bea"}},
		{"processes by state", "/console/processes?org_id=org-a&state=CANCELLED", tokA, 200, []string{"1 process", "Luis Ruiz"}, []string{"Ana Ruiz"}},
		{"an unknown state is the service's refusal", "/console/processes?state=DONE", tokA, 422, []string{"$.states[0]"}, nil},
		{"a platform operator names no organisation of processes", "/console/processes", tokPlatform, 403, []string{otpprocess.MsgTokenWithoutOrg}, nil},
		{"a process", "/console/processes/" + processCreated + "?org_id=org-a", tokA, 200,
			[]string{"Ana Ruiz", "CREATED", "&#43;3460*****22", "a***@e***.com", "DOCUMENT_NUMBER", `name="reason"`, "Cancel process", "Delete process"},
			[]string{"X1234567L", "600111222", `name="force"`}},
		{"a cancelled process offers a forced delete", "/console/processes/" + processCancelled, tokA, 200,
			[]string{"CANCELLED", `name="force"`}, []string{`name="reason"`}},
		{"an unknown page", "/console/nothing-here", tokA, 404, []string{"Page not found"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := k.request(t, "GET", tc.path, tc.token, nil)
			require.Equal(t, tc.status, a.status, a.body)
			require.Equal(t, "text/html; charset=utf-8", a.header.Get("Content-Type"))
			for _, s := range tc.contains {
				require.Contains(t, a.body, s)
			}
			for _, s := range tc.absent {
				require.NotContains(t, a.body, s)
			}
			require.NotContains(t, a.body, "<script", "no page carries script")
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	k := newKit(t)
	for _, tc := range []struct{ path, token string }{
		{"/console/signin", ""}, {"/console/reset-requests", tokA}, {"/console/static/console.css", ""}, {"/console/nothing", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			a := k.request(t, "GET", tc.path, tc.token, nil)
			csp := a.header.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "style-src 'self'", "script-src 'none'", "form-action 'self'", "frame-ancestors 'none'"} {
				require.Contains(t, csp, d)
			}
			require.NotContains(t, csp, "unsafe-inline")
			require.Equal(t, "nosniff", a.header.Get("X-Content-Type-Options"))
			require.Equal(t, "no-referrer", a.header.Get("Referrer-Policy"))
		})
	}
	a := k.request(t, "GET", "/console/static/console.css", "", nil)
	require.Equal(t, http.StatusOK, a.status)
	require.Contains(t, a.header.Get("Content-Type"), "text/css")
	require.Contains(t, a.body, "@media")
	page := k.request(t, "GET", "/console/signin", "", nil)
	require.Contains(t, page.body, `<link rel="stylesheet" href="/console/static/console.css?v=`)
	require.Equal(t, "no-store", page.header.Get("Cache-Control"))
}

func TestEscaping(t *testing.T) {
	k := newKit(t)
	const escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
	t.Run("a reset request's description", func(t *testing.T) {
		a := k.request(t, "GET", "/console/reset-requests", tokA, nil)
		require.Equal(t, http.StatusOK, a.status)
		require.Contains(t, a.body, escaped)
		require.NotContains(t, a.body, "<script>alert")
	})
	t.Run("a profile's name after its reset", func(t *testing.T) {
		a := k.request(t, "POST", "/console/profiles/user-eve/reset", tokA, url.Values{"field": {"person.namePlain.first"}})
		require.Equal(t, http.StatusOK, a.status, a.body)
		require.Contains(t, a.body, escaped)
		require.NotContains(t, a.body, "<script>alert")
	})
	t.Run("a user id in the path", func(t *testing.T) {
		a := k.request(t, "GET", "/console/profiles/"+url.PathEscape(evil), tokA, nil)
		require.Equal(t, http.StatusNotFound, a.status, "no such profile, as the domain answers")
		require.NotContains(t, a.body, "<script>alert")
		a = k.request(t, "POST", "/console/profiles/"+url.PathEscape(evil)+"/reset", tokA, url.Values{"field": {"person.namePlain.first"}})
		require.Equal(t, http.StatusNotFound, a.status)
		require.Contains(t, a.body, escaped, "the form shows the id, escaped")
		require.NotContains(t, a.body, "<script>alert")
	})
	t.Run("a profile's name before its reset", func(t *testing.T) {
		a := k.request(t, "GET", "/console/profiles/user-eve", tokA, nil)
		require.Equal(t, http.StatusOK, a.status, a.body)
		require.Contains(t, a.body, escaped)
		require.NotContains(t, a.body, "<script>alert")
		require.Contains(t, a.body, `id="status"`, "the identification status shows")
	})
}

func TestResetRequestDecisions(t *testing.T) {
	cases := []struct {
		name, user, decision, token string
		status                      int
		location, contains          string
		want                        ports.ResetRequestStatus
	}{
		{"approve", "user-anna", "approve", tokA, 303, "/console/reset-requests?done=approved&order=desc&page=0&size=2&sort=userId&status=PENDING", "", ports.ResetRequestApproved},
		{"decline", "user-bob", "decline", tokA, 303, "/console/reset-requests?done=declined&order=desc&page=0&size=2&sort=userId&status=PENDING", "", ports.ResetRequestDeclined},
		{"another organisation's request is not found", "user-zed", "decline", tokA, 404, "", identification.MsgResetRequestNotFound, ports.ResetRequestPending},
		{"without the permission", "user-anna", "approve", tokNothing, 403, "", "RESET_IDENTIFICATION_INITIATOR", ports.ResetRequestPending},
		{"an unknown decision", "user-anna", "ignore", tokA, 404, "", "Page not found", ports.ResetRequestPending},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			path := "/console/reset-requests/" + tc.user + "/" + k.resetRequests[tc.user] + "/" + tc.decision
			form := url.Values{"return": {"status=PENDING&sort=userId&order=desc&page=0&size=2&evil=http://x"}}
			a := k.request(t, "POST", path, tc.token, form, "Sec-Fetch-Site: same-origin")
			require.Equal(t, tc.status, a.status, a.body)
			require.Equal(t, tc.location, a.header.Get("Location"))
			require.Contains(t, a.body, tc.contains)
			require.Equal(t, tc.want, k.resetStatus(t, tc.user))
		})
	}
	t.Run("deciding twice is the service's conflict, shown on the list", func(t *testing.T) {
		k := newKit(t)
		path := "/console/reset-requests/user-anna/" + k.resetRequests["user-anna"] + "/decline"
		require.Equal(t, 303, k.request(t, "POST", path, tokA, url.Values{}).status)
		a := k.request(t, "POST", path, tokA, url.Values{})
		require.Equal(t, http.StatusConflict, a.status)
		require.Contains(t, a.body, identification.MsgResetRequestNotPending)
		require.Contains(t, a.body, "user-bob", "the list is shown with the error")
		require.Contains(t, k.request(t, "GET", "/console/reset-requests?done=declined", tokA, nil).body, "Reset request declined.")
	})
}

func TestResetProfile(t *testing.T) {
	cases := []struct {
		name, user, token string
		fields            []string
		status            int
		contains          []string
		reset             bool
	}{
		{"two fields become mandatory", "user-anna", tokA, []string{"address.city", "contact.email"}, 200,
			[]string{"Identification reset.", `id="status">none</span>`, "<li><code>address.city</code></li><li><code>contact.email</code></li>", "Anna", "Smith"}, true},
		{"no field is the service's refusal", "user-anna", tokA, nil, 422, []string{"$.fields", "at least one field is required"}, false},
		{"a forged unknown field is the service's refusal, the ticks kept", "user-anna", tokA, []string{"address.city", "security.twoFactorsAuthEnabled"}, 422,
			[]string{"$.fields[1]", "unknown profile field", `value="address.city" checked`}, false},
		{"another organisation's profile is not found", "user-zed", tokA, []string{"address.city"}, 404, []string{identification.MsgProfileNotFound}, false},
		{"an unknown profile", "user-nobody", tokA, []string{"address.city"}, 404, []string{identification.MsgProfileNotFound}, false},
		{"without the permission", "user-anna", tokNothing, []string{"address.city"}, 403, []string{"RESET_IDENTIFICATION_INITIATOR"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			a := k.request(t, "POST", "/console/profiles/"+tc.user+"/reset", tc.token, url.Values{"field": tc.fields})
			require.Equal(t, tc.status, a.status, a.body)
			for _, s := range tc.contains {
				require.Contains(t, a.body, s)
			}
			rec, err := k.profiles.Get(context.Background(), tc.user)
			if tc.user == "user-nobody" {
				require.ErrorIs(t, err, ports.ErrProfileNotFound)
				return
			}
			require.NoError(t, err)
			if tc.reset {
				require.Equal(t, ports.IdentificationNone, rec.Profile.Status)
				require.Equal(t, tc.fields, rec.MandatoryFields)
				require.Equal(t, ports.ResetRequestApproved, k.resetStatus(t, tc.user), "the pending request is approved by the reset")
			} else {
				require.Equal(t, ports.IdentificationApproved, rec.Profile.Status, "nothing changed")
				require.Empty(t, rec.MandatoryFields)
			}
		})
	}
}

func TestResendPersonRequest(t *testing.T) {
	cases := []struct {
		name, alias, token string
		status             int
		location, contains string
		sentTo             string
	}{
		{"to the mother", "mother", tokA, 303, "/console/person-requests/" + personRequest + "?done=resent", "", phoneOksana},
		{"to the primary method when no alias is given", "", tokA, 303, "/console/person-requests/" + personRequest + "?done=resent", "", phonePetro},
		{"to an unknown alias", "aunt", tokA, 422, "", "$.alias", ""},
		{"without the scope", "mother", tokNothing, 403, "", "person_request:write", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			k.clock.Advance(time.Minute) // past the 30 s between two codes to one phone
			before := len(k.sms.Messages())
			a := k.request(t, "POST", "/console/person-requests/"+personRequest+"/resend", tc.token, url.Values{"alias": {tc.alias}})
			require.Equal(t, tc.status, a.status, a.body)
			require.Equal(t, tc.location, a.header.Get("Location"))
			require.Contains(t, a.body, tc.contains)
			msgs := k.sms.Messages()
			if tc.sentTo == "" {
				require.Len(t, msgs, before, "no code sent")
				return
			}
			require.Len(t, msgs, before+1)
			require.Equal(t, tc.sentTo, msgs[len(msgs)-1].To)
			page := k.request(t, "GET", tc.location, tc.token, nil)
			require.Contains(t, page.body, "stopped being valid")
		})
	}
}

func TestProcessActions(t *testing.T) {
	cases := []struct {
		name, action, id, token string
		form                    url.Values
		status                  int
		location, contains      string
		org, want               string // the process's stored state after, "" when deleted
	}{
		{"cancel with a reason", "cancel", processCreated, tokA, url.Values{"reason": {"Asked by phone"}}, 303,
			"/console/processes/" + processCreated + "?done=cancelled&org_id=org-a", "", orgA, "CANCELLED"},
		{"cancel without a reason", "cancel", processCreated, tokA, url.Values{"reason": {"  "}}, 422, "", "$.reason", orgA, "CREATED"},
		{"cancel a cancelled process", "cancel", processCancelled, tokA, url.Values{"reason": {"again"}}, 409, "", "cannot be cancelled", orgA, "CANCELLED"},
		{"cancel another organisation's process", "cancel", processOfB, tokA, url.Values{"reason": {"x"}, "org_id": {orgB}}, 404, "", otpprocess.MsgNotFound, orgB, "CREATED"},
		{"delete a created process", "delete", processCreated, tokA, url.Values{}, 303, "/console/processes?done=deleted&org_id=org-a", "", orgA, ""},
		{"delete a cancelled process without force", "delete", processCancelled, tokA, url.Values{}, 403, "", "only force=true can delete it", orgA, "CANCELLED"},
		{"force-delete a cancelled process", "delete", processCancelled, tokA, url.Values{"force": {"true"}}, 303, "/console/processes?done=deleted&org_id=org-a", "", orgA, ""},
		{"force-delete without the permission", "delete", processCancelled, tokANoForce, url.Values{"force": {"true"}}, 403,
			"", otpprocess.DefaultForceDeletePermission, orgA, "CANCELLED"},
		{"delete another organisation's process", "delete", processOfB, tokA, url.Values{"org_id": {orgB}, "force": {"true"}}, 404, "", otpprocess.MsgNotFound, orgB, "CREATED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			a := k.request(t, "POST", "/console/processes/"+tc.id+"/"+tc.action, tc.token, tc.form)
			require.Equal(t, tc.status, a.status, a.body)
			require.Equal(t, tc.location, a.header.Get("Location"))
			require.Contains(t, a.body, tc.contains)
			require.Equal(t, tc.want, k.processState(t, tc.org, tc.id))
			if tc.location != "" {
				page := k.request(t, "GET", tc.location, tc.token, nil)
				require.Equal(t, http.StatusOK, page.status)
				require.Contains(t, page.body, map[string]string{"cancel": "Process cancelled.", "delete": "Process deleted."}[tc.action])
			}
		})
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	forged := []struct {
		name    string
		headers []string
	}{
		{"Sec-Fetch-Site: cross-site", []string{"Sec-Fetch-Site: cross-site"}},
		{"Sec-Fetch-Site: same-site", []string{"Sec-Fetch-Site: same-site"}},
		{"an Origin of another host", []string{"Origin: https://evil.example"}},
	}
	for _, f := range forged {
		t.Run(f.name, func(t *testing.T) {
			k := newKit(t)
			posts := []struct {
				path string
				form url.Values
			}{
				{"/console/signin", url.Values{"token": {tokA}}},
				{"/console/signout", url.Values{}},
				{"/console/reset-requests/user-anna/" + k.resetRequests["user-anna"] + "/decline", url.Values{}},
				{"/console/profiles/user-anna/reset", url.Values{"field": {"address.city"}}},
				{"/console/person-requests/" + personRequest + "/resend", url.Values{"alias": {"mother"}}},
				{"/console/processes/" + processCreated + "/cancel", url.Values{"reason": {"forged"}}},
				{"/console/processes/" + processCreated + "/delete", url.Values{}},
			}
			sent := len(k.sms.Messages())
			for _, p := range posts {
				a := k.request(t, "POST", p.path, tokA, p.form, f.headers...)
				require.Equal(t, http.StatusForbidden, a.status, p.path)
				require.Contains(t, a.body, "Cross-origin request refused", p.path)
				require.Empty(t, a.header.Values("Set-Cookie"), p.path)
			}
			require.Equal(t, ports.ResetRequestPending, k.resetStatus(t, "user-anna"))
			rec, err := k.profiles.Get(context.Background(), "user-anna")
			require.NoError(t, err)
			require.Equal(t, ports.IdentificationApproved, rec.Profile.Status)
			require.Len(t, k.sms.Messages(), sent)
			require.Equal(t, "CREATED", k.processState(t, orgA, processCreated))
		})
	}
	t.Run("the same origin is accepted", func(t *testing.T) {
		k := newKit(t)
		a := k.request(t, "POST", "/console/reset-requests/user-anna/"+k.resetRequests["user-anna"]+"/decline", tokA, url.Values{},
			"Sec-Fetch-Site: same-origin", "Origin: http://console.test")
		require.Equal(t, http.StatusSeeOther, a.status)
		require.Equal(t, ports.ResetRequestDeclined, k.resetStatus(t, "user-anna"))
	})
}

func TestAnotherOrganisationSeesNothing(t *testing.T) {
	k := newKit(t)
	cases := []struct {
		name, path string
		status     int
		contains   string
		absent     []string
	}{
		{"reset requests", "/console/reset-requests", 200, "1 request", []string{"user-anna", "user-bob", "user-eve"}},
		{"reset requests filtered by the other organisation", "/console/reset-requests?org=org-a&status=", 200, "0 requests", []string{"user-anna"}},
		{"processes of the other organisation", "/console/processes?org_id=org-a", 404, otpprocess.MsgOrgNotFound, []string{"Ana", "Luis"}},
		{"its own processes only", "/console/processes", 200, "1 process", []string{"Ana", "Luis"}},
		{"a process of the other organisation", "/console/processes/" + processCreated + "?org_id=org-a", 404, otpprocess.MsgNotFound, []string{"Ana", "Cancel process"}},
		{"a process of the other organisation, under its own", "/console/processes/" + processCreated + "?org_id=org-b", 404, otpprocess.MsgNotFound, []string{"Ana"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := k.request(t, "GET", tc.path, tokB, nil)
			require.Equal(t, tc.status, a.status, a.body)
			require.Contains(t, a.body, tc.contains)
			for _, s := range tc.absent {
				require.NotContains(t, a.body, s)
			}
		})
	}
}

func TestPagesOfMissingServicesAreAbsent(t *testing.T) {
	k := newKit(t)
	h, err := console.New(console.Services{Processes: k.svc.Processes}, console.Options{BasePath: "/ops/", Tokens: k.tokens, Clock: k.clock})
	require.NoError(t, err)
	k.handler = h
	home := k.request(t, "GET", "/ops/", tokA, nil)
	require.Equal(t, http.StatusOK, home.status)
	require.Contains(t, home.body, `href="/ops/processes"`)
	require.NotContains(t, home.body, "reset-requests")
	require.NotContains(t, home.body, "person-requests")
	for _, p := range []string{"/ops/reset-requests", "/ops/profiles/user-anna", "/ops/person-requests/" + personRequest} {
		require.Equal(t, http.StatusNotFound, k.request(t, "GET", p, tokA, nil).status, p)
	}
	require.Equal(t, http.StatusOK, k.request(t, "GET", "/ops/processes", tokA, nil).status)
	require.True(t, strings.HasPrefix(k.request(t, "GET", "/ops/processes", "", nil).header.Get("Location"), "/ops/signin"))
}

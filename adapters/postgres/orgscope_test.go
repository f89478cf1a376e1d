package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// Operator tokens of the organisation-scope tests.
const (
	orgScopeTokA        = "tok-scope-org-a"    // operator of org-a
	orgScopeTokB        = "tok-scope-org-b"    // operator of org-b
	orgScopeTokPlatform = "tok-scope-platform" // operator of no organisation
)

// orgScopeEnv is a ProfileService on PostgreSQL with operators of two organisations and a
// platform operator.
type orgScopeEnv struct {
	db  *postgres.DB
	svc *identification.ProfileService
}

func newOrgScopeEnv(t *testing.T) orgScopeEnv {
	t.Helper()
	db := pgtest.New(t)
	tokens := memory.NewTokens()
	exp := start.Add(24 * time.Hour)
	perms := []string{identification.PermissionResetIdentificationInitiator, identification.PermissionIdentificationReviewer}
	tokens.Add(orgScopeTokA, ports.Claims{Subject: "op-a", OrgID: "org-a", ExpiresAt: exp, Permissions: perms})
	tokens.Add(orgScopeTokB, ports.Claims{Subject: "op-b", OrgID: "org-b", ExpiresAt: exp, Permissions: perms})
	tokens.Add(orgScopeTokPlatform, ports.Claims{Subject: "op-platform", ExpiresAt: exp, Permissions: perms})
	svc, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: db.ProfileStore(), ResetRequests: db.ResetRequestStore(), Tokens: tokens, Clock: memory.NewClock(start),
	}, identification.DefaultProfileConfig())
	require.NoError(t, err)
	return orgScopeEnv{db: db, svc: svc}
}

// profile stores an approved (or closed) profile of user in org and, when reqID is not
// empty, a reset request reqID of it in status st, created n minutes after start.
func (e orgScopeEnv) profile(t *testing.T, user, org string, closed bool, reqID string, st ports.ResetRequestStatus, n int) {
	t.Helper()
	ctx := context.Background()
	status := ports.IdentificationApproved
	if closed {
		status = ports.IdentificationClosed
	}
	require.NoError(t, e.db.ProfileStore().Create(ctx, ports.ProfileRecord{
		UserID: user, OrganizationID: org,
		Profile: ports.Profile{
			Type: "base", Status: status,
			Person:  ports.ProfilePerson{NamePlain: ports.ProfileName{First: "Anna", Last: "Smith"}},
			Address: ports.ProfileAddress{Country: "UA", City: "Kyiv"},
		},
		Documents: []ports.ProfileDocument{{ID: "d-" + user, Type: "PASSPORT", Status: ports.DocumentApproved, UpdatedAt: start}},
		CreatedAt: start, UpdatedAt: start,
	}))
	if reqID == "" {
		return
	}
	_, err := e.db.ProfileStore().Update(ctx, user, func(r *ports.ProfileRecord) error {
		r.OpenResetRequest = &ports.ResetRequest{
			ID: reqID, UserID: user, OrganizationID: org, Status: ports.ResetRequestPending,
			InitiatorUserID: user, CreatedAt: start.Add(time.Duration(n) * time.Minute),
		}
		return nil
	})
	require.NoError(t, err)
	if st == ports.ResetRequestPending {
		return
	}
	_, err = e.db.ProfileStore().Update(ctx, user, func(r *ports.ProfileRecord) error {
		r.OpenResetRequest.Status, r.OpenResetRequest.DecidedBy, r.OpenResetRequest.DecidedAt = st, "op-platform", start
		return nil
	})
	require.NoError(t, err)
}

// orgScopeSnapshot is everything stored about one user.
type orgScopeSnapshot struct {
	Profile  ports.ProfileRecord
	Requests []ports.ResetRequest
	Events   []ports.ProfileAuditEvent
}

func (e orgScopeEnv) snapshot(t *testing.T, users ...string) map[string]orgScopeSnapshot {
	t.Helper()
	ctx := context.Background()
	all, _, err := e.db.ResetRequestStore().List(ctx, ports.ResetRequestQuery{Limit: 10_000})
	require.NoError(t, err)
	out := map[string]orgScopeSnapshot{}
	for _, u := range users {
		var s orgScopeSnapshot
		s.Profile, err = e.db.ProfileStore().Get(ctx, u)
		require.NoError(t, err)
		for _, r := range all {
			if r.UserID == u {
				s.Requests = append(s.Requests, r)
			}
		}
		s.Events, err = e.db.ProfileAuditLog().Events(ctx, u)
		require.NoError(t, err)
		out[u] = s
	}
	return out
}

// orgScopeCall runs one operator use case on user (and reqID), valid or with invalid input.
type orgScopeCall func(svc *identification.ProfileService, token, user, reqID string, bad bool) error

var orgScopeCalls = map[string]orgScopeCall{
	"reset": func(svc *identification.ProfileService, token, user, _ string, bad bool) error {
		fields := []string{"address.city"}
		if bad {
			fields = []string{"address.city", "no.such", ""}
		}
		_, err := svc.ResetIdentification(context.Background(), identification.ResetIdentificationRequest{Token: token, UserID: user, Fields: fields})
		return err
	},
	"status": func(svc *identification.ProfileService, token, user, _ string, bad bool) error {
		st := ports.IdentificationPending
		if bad {
			st = "frozen"
		}
		_, err := svc.SetIdentificationStatus(context.Background(), identification.SetIdentificationStatusRequest{Token: token, UserID: user, Status: st})
		return err
	},
	"approve": func(svc *identification.ProfileService, token, user, reqID string, bad bool) error {
		if bad {
			reqID = " "
		}
		_, err := svc.ApproveResetRequest(context.Background(), identification.DecideResetRequest{Token: token, UserID: user, RequestID: reqID})
		return err
	},
	"decline": func(svc *identification.ProfileService, token, user, reqID string, bad bool) error {
		if bad {
			reqID = " "
		}
		_, err := svc.DeclineResetRequest(context.Background(), identification.DecideResetRequest{Token: token, UserID: user, RequestID: reqID})
		return err
	},
}

// orgScopeAnswer is what a caller learns from a refused call.
func orgScopeAnswer(t *testing.T, err error) verifykit.Error {
	t.Helper()
	var e *verifykit.Error
	require.ErrorAs(t, err, &e)
	return verifykit.Error{Kind: e.Kind, Message: e.Message, Invalid: e.Invalid}
}

// On PostgreSQL as on memory: an operator of one organisation gets, for another
// organisation's profile or reset request, exactly the answer an id that does not exist
// gets, and nothing is written; on its own organisation it acts, and so does a platform
// operator on any organisation.
func TestOrganisationScopeOfProfileOperators(t *testing.T) {
	e := newOrgScopeEnv(t)
	n := 0
	for name, call := range orgScopeCalls {
		t.Run(name, func(t *testing.T) {
			// Fresh users for each use case: a1 (org-a), b1 (org-b, closed when the use
			// case is a reset or a status change), b2 (org-b, its request declined).
			p := func(u string) string { return name + "-" + u }
			n++
			e.profile(t, p("a1"), "org-a", false, p("ra1"), ports.ResetRequestPending, n)
			e.profile(t, p("b1"), "org-b", false, p("rb1"), ports.ResetRequestPending, n)
			e.profile(t, p("b2"), "org-b", false, p("rb2"), ports.ResetRequestDeclined, n)
			e.profile(t, p("bc"), "org-b", true, "", "", n)
			users := []string{p("a1"), p("b1"), p("b2"), p("bc")}

			refused := []struct {
				name, token, user, reqID string
				bad                      bool
			}{
				{"another organisation's", orgScopeTokA, p("b1"), p("rb1"), false},
				{"another organisation's, invalid input", orgScopeTokA, p("b1"), p("rb1"), true},
				{"another organisation's decided request", orgScopeTokA, p("b2"), p("rb2"), false},
				{"another organisation's closed profile", orgScopeTokA, p("bc"), p("rb1"), false},
				{"the other way round", orgScopeTokB, p("a1"), p("ra1"), false},
			}
			for _, tc := range refused {
				t.Run(tc.name, func(t *testing.T) {
					before := e.snapshot(t, users...)
					missing := call(e.svc, tc.token, "nobody", "00000000-0000-0000-0000-000000000000", tc.bad)
					err := call(e.svc, tc.token, tc.user, tc.reqID, tc.bad)
					require.Equal(t, orgScopeAnswer(t, missing), orgScopeAnswer(t, err), "answered like an id that does not exist")
					if !tc.bad {
						require.Equal(t, verifykit.KindNotFound, orgScopeAnswer(t, err).Kind, err)
					}
					require.Equal(t, before, e.snapshot(t, users...), "nothing written")
				})
			}

			allowed := []struct {
				name, token, user, reqID string
			}{
				{"its own organisation", orgScopeTokA, p("a1"), p("ra1")},
				{"a platform operator, any organisation", orgScopeTokPlatform, p("b1"), p("rb1")},
			}
			for _, tc := range allowed {
				t.Run(tc.name, func(t *testing.T) {
					before := e.snapshot(t, users...)
					require.NoError(t, call(e.svc, tc.token, tc.user, tc.reqID, false))
					after := e.snapshot(t, users...)
					require.Len(t, after[tc.user].Events, len(before[tc.user].Events)+1, "the change and its event")
					for _, u := range users {
						if u != tc.user {
							require.Equal(t, before[u], after[u], "no other user changed")
						}
					}
				})
			}
		})
	}
}

func TestOrganisationScopeOfViewResetRequests(t *testing.T) {
	ctx := context.Background()
	e := newOrgScopeEnv(t)
	for i := 1; i <= 6; i++ {
		org := []string{"", "org-a", "org-b"}[i%3]
		st := ports.ResetRequestPending
		if i > 3 {
			st = ports.ResetRequestApproved
		}
		e.profile(t, fmt.Sprintf("u%d", i), org, false, fmt.Sprintf("r%d", i), st, i)
	}
	view := func(token, org string, st ports.ResetRequestStatus) identification.ViewResetRequestsResult {
		t.Helper()
		res, err := e.svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{
			Token: token, Filter: identification.ResetRequestFilter{OrganizationID: org, Status: st},
			Sort: identification.ResetRequestSort{OrganizationID: "desc"}, PageSize: 10,
		})
		require.NoError(t, err)
		return res
	}
	cases := []struct {
		name, token, org string
		status           ports.ResetRequestStatus
		want             []string
	}{
		{"an organisation, no filter", orgScopeTokA, "", "", []string{"r1", "r4"}},
		{"an organisation, its own filter", orgScopeTokB, "org-b", "", []string{"r2", "r5"}},
		{"an organisation, pending only", orgScopeTokB, "", ports.ResetRequestPending, []string{"r2"}},
		{"an organisation, another's filter", orgScopeTokA, "org-b", "", []string{}},
		{"an organisation, approved only", orgScopeTokA, "", ports.ResetRequestApproved, []string{"r4"}},
		{"a platform operator, no filter", orgScopeTokPlatform, "", "", []string{"r2", "r5", "r1", "r4", "r3", "r6"}},
		{"a platform operator, an organisation", orgScopeTokPlatform, "org-a", "", []string{"r1", "r4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := view(tc.token, tc.org, tc.status)
			got := []string{}
			for _, r := range res.Records {
				got = append(got, r.ID)
			}
			require.Equal(t, tc.want, got)
			require.Equal(t, len(tc.want), res.TotalRecords)
		})
	}
	require.Equal(t, view(orgScopeTokA, "org-none", ""), view(orgScopeTokA, "org-b", ""),
		"another organisation's filter answers what an organisation without requests answers")
}

package identification_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// Operator tokens of one organisation each; tokOperator is the platform operator.
const (
	tokOrgA = "tok-org-a" // operator opa of org-a, both operator permissions
	tokOrgB = "tok-org-b" // operator opb of org-b, both operator permissions
)

// orgEnv is a profile service with profiles in two organisations and in none:
//
//	a1  org-a  approved, open request ra1
//	b1  org-b  approved, open request rb1
//	b2  org-b  closed
//	b3  org-b  approved, request rb3 declined
//	n1  (none) approved, open request rn1
type orgEnv struct {
	*profileEnv
}

func newOrgEnv(t *testing.T) orgEnv {
	t.Helper()
	perms := []string{identification.PermissionResetIdentificationInitiator, identification.PermissionIdentificationReviewer}
	env := newProfileEnvWith(t, func(d *identification.ProfileDeps) {
		tokens := d.Tokens.(*memory.Tokens)
		exp := profileT0.Add(24 * time.Hour)
		tokens.Add(tokOrgA, ports.Claims{Subject: "opa", OrgID: "org-a", ExpiresAt: exp, Permissions: perms})
		tokens.Add(tokOrgB, ports.Claims{Subject: "opb", OrgID: "org-b", ExpiresAt: exp, Permissions: perms})
	})
	e := orgEnv{env}
	e.addProfile(t, "a1", "org-a", ports.IdentificationApproved)
	e.openRequest(t, "a1", "ra1", "org-a", 1)
	e.addProfile(t, "b1", "org-b", ports.IdentificationApproved)
	e.openRequest(t, "b1", "rb1", "org-b", 2)
	e.addProfile(t, "b2", "org-b", ports.IdentificationClosed)
	e.addProfile(t, "b3", "org-b", ports.IdentificationApproved)
	e.openRequest(t, "b3", "rb3", "org-b", 3)
	_, err := e.svc.DeclineResetRequest(context.Background(), identification.DecideResetRequest{Token: tokOperator, UserID: "b3", RequestID: "rb3"})
	require.NoError(t, err)
	e.addProfile(t, "n1", "", ports.IdentificationApproved)
	e.openRequest(t, "n1", "rn1", "", 4)
	return e
}

// openRequest stores a PENDING reset request of user, created n minutes after profileT0.
func (e orgEnv) openRequest(t *testing.T, user, id, org string, n int) {
	t.Helper()
	_, err := e.profiles.Update(context.Background(), user, func(r *ports.ProfileRecord) error {
		r.OpenResetRequest = &ports.ResetRequest{
			ID: id, UserID: user, OrganizationID: org, Status: ports.ResetRequestPending,
			InitiatorUserID: user, CreatedAt: profileT0.Add(time.Duration(n) * time.Minute),
		}
		return nil
	})
	require.NoError(t, err)
}

// everything is what is stored about every user of the orgEnv.
func (e orgEnv) everything(t *testing.T) map[string]profileSnapshot {
	t.Helper()
	out := map[string]profileSnapshot{}
	for _, u := range []string{"a1", "b1", "b2", "b3", "n1"} {
		out[u] = e.snapshot(t, u)
	}
	return out
}

// errorAnswer is all a caller learns from a refused call: the kind, the message and the
// invalid entries of the *verifykit.Error.
type errorAnswer struct {
	Kind    verifykit.Kind
	Message string
	Invalid []verifykit.InvalidEntry
}

func errorAnswerOf(t *testing.T, err error) errorAnswer {
	t.Helper()
	var e *verifykit.Error
	require.ErrorAs(t, err, &e)
	return errorAnswer{Kind: e.Kind, Message: e.Message, Invalid: e.Invalid}
}

// orgUseCase calls one operator use case on user (and, for decisions, the request reqID)
// with the fields or status given in arg.
type orgUseCase func(svc *identification.ProfileService, token, user, reqID, arg string) error

var orgUseCases = map[string]struct {
	call orgUseCase
	// good and bad are a valid and an invalid arg.
	good, bad string
}{
	"reset": {func(svc *identification.ProfileService, token, user, _, arg string) error {
		_, err := svc.ResetIdentification(context.Background(), identification.ResetIdentificationRequest{Token: token, UserID: user, Fields: []string{arg}})
		return err
	}, "address.city", "no.such"},
	"status": {func(svc *identification.ProfileService, token, user, _, arg string) error {
		_, err := svc.SetIdentificationStatus(context.Background(), identification.SetIdentificationStatusRequest{Token: token, UserID: user, Status: ports.IdentificationStatus(arg)})
		return err
	}, string(ports.IdentificationPending), "frozen"},
	"approve": {func(svc *identification.ProfileService, token, user, reqID, arg string) error {
		if arg == "" {
			user = "" // the invalid input of a decision: no user id
		}
		_, err := svc.ApproveResetRequest(context.Background(), identification.DecideResetRequest{Token: token, UserID: user, RequestID: reqID})
		return err
	}, "ok", ""},
	"decline": {func(svc *identification.ProfileService, token, user, reqID, arg string) error {
		if arg == "" {
			user = ""
		}
		_, err := svc.DeclineResetRequest(context.Background(), identification.DecideResetRequest{Token: token, UserID: user, RequestID: reqID})
		return err
	}, "ok", ""},
}

// An operator of one organisation gets, for another organisation's profile or request,
// exactly the answer an id that does not exist gets, and changes nothing; on its own
// organisation it acts, and a platform operator acts on every organisation.
func TestOperatorsActOnTheirOrganisationOnly(t *testing.T) {
	cases := []struct {
		name string
		// user and reqID are another organisation's; missingUser and missingReq the ids
		// that do not exist to compare with.
		user, reqID, missingUser, missingReq string
		token                                string
		bad                                  bool // with invalid input
	}{
		{"another organisation's", "b1", "rb1", "nobody", "r-none", tokOrgA, false},
		{"another organisation's, invalid input", "b1", "rb1", "nobody", "r-none", tokOrgA, true},
		{"another organisation's closed profile or decided request", "b2", "rb3", "nobody", "r-none", tokOrgA, false},
		{"the decided request's own user", "b3", "rb3", "b3", "r-none", tokOrgA, false},
		{"a profile of no organisation", "n1", "rn1", "nobody", "r-none", tokOrgA, false},
		{"the other way round", "a1", "ra1", "nobody", "r-none", tokOrgB, false},
	}
	for name, uc := range orgUseCases {
		t.Run(name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					e := newOrgEnv(t)
					arg := uc.good
					if tc.bad {
						arg = uc.bad
					}
					before := e.everything(t)
					missing := uc.call(e.svc, tc.token, tc.missingUser, tc.missingReq, arg)
					require.Error(t, missing)
					err := uc.call(e.svc, tc.token, tc.user, tc.reqID, arg)
					require.Error(t, err)
					require.Equal(t, errorAnswerOf(t, missing), errorAnswerOf(t, err), "answered like an id that does not exist")
					if !tc.bad {
						require.Equal(t, verifykit.KindNotFound, errorAnswerOf(t, err).Kind)
					}
					require.Equal(t, before, e.everything(t), "nothing changed")
				})
			}
		})
	}
}

func TestOperatorsOfTheOrganisationAndPlatformOperatorsAct(t *testing.T) {
	cases := []struct {
		name, token, user, reqID string
	}{
		{"its own organisation", tokOrgA, "a1", "ra1"},
		{"the other organisation, its own", tokOrgB, "b1", "rb1"},
		{"a platform operator, any organisation", tokOperator, "b1", "rb1"},
		{"a platform operator, no organisation", tokOperator, "n1", "rn1"},
	}
	for name, uc := range orgUseCases {
		t.Run(name, func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					e := newOrgEnv(t)
					before := e.everything(t)
					require.NoError(t, uc.call(e.svc, tc.token, tc.user, tc.reqID, uc.good))
					after := e.everything(t)
					require.NotEqual(t, before[tc.user], after[tc.user], "the profile or request changed")
					require.Len(t, after[tc.user].events, len(before[tc.user].events)+1, "with its audit event")
					for u := range before {
						if u != tc.user {
							require.Equal(t, before[u], after[u], "no other user changed")
						}
					}
				})
			}
		})
	}
}

func TestViewResetRequestsOfTheTokensOrganisation(t *testing.T) {
	ctx := context.Background()
	e := newOrgEnv(t)
	view := func(token, org string, st ports.ResetRequestStatus) identification.ViewResetRequestsResult {
		t.Helper()
		res, err := e.svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{
			Token: token, Filter: identification.ResetRequestFilter{OrganizationID: org, Status: st},
			Sort: identification.ResetRequestSort{OrganizationID: "asc"}, PageSize: 10,
		})
		require.NoError(t, err)
		return res
	}
	ids := func(res identification.ViewResetRequestsResult) []string {
		out := []string{}
		for _, r := range res.Records {
			out = append(out, r.ID)
		}
		return out
	}
	cases := []struct {
		name, token, org string
		status           ports.ResetRequestStatus
		want             []string
	}{
		{"an organisation, no filter", tokOrgA, "", "", []string{"ra1"}},
		{"an organisation, its own filter", tokOrgA, "org-a", "", []string{"ra1"}},
		{"an organisation, pending only", tokOrgB, "", ports.ResetRequestPending, []string{"rb1"}},
		{"an organisation, declined only", tokOrgB, "", ports.ResetRequestDeclined, []string{"rb3"}},
		{"an organisation, another's filter", tokOrgA, "org-b", "", []string{}},
		{"an organisation, another's filter and status", tokOrgB, "org-a", ports.ResetRequestPending, []string{}},
		{"a platform operator, no filter", tokOperator, "", "", []string{"rn1", "ra1", "rb1", "rb3"}},
		{"a platform operator, an organisation", tokOperator, "org-b", "", []string{"rb1", "rb3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := view(tc.token, tc.org, tc.status)
			require.Equal(t, tc.want, ids(res))
			require.Equal(t, len(tc.want), res.TotalRecords)
		})
	}

	// Another organisation's filter answers exactly what an organisation without requests
	// answers.
	require.Equal(t, view(tokOrgA, "org-none", ""), view(tokOrgA, "org-b", ""))
	require.Equal(t, view(tokOperator, "org-none", ""), view(tokOrgA, "org-b", ""))
	require.Equal(t, identification.ViewResetRequestsResult{Status: "ok", PageSize: 10, Records: []ports.ResetRequest{}}, view(tokOrgA, "org-b", ""))

	// The input is checked first, whatever organisation the filter names.
	for _, org := range []string{"org-a", "org-b", "org-none"} {
		_, err := e.svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{Token: tokOrgA, Filter: identification.ResetRequestFilter{OrganizationID: org}})
		require.Equal(t, []string{"$.pageSize range"}, profileEntries(t, err), org)
	}
}

// profileOrgStaleRequests is a reset request store whose Get answers every request as one
// of organisation org, as a read that raced with a host moving the request would.
type profileOrgStaleRequests struct {
	ports.ResetRequestStore
	org string
}

func (s profileOrgStaleRequests) Get(ctx context.Context, id string) (ports.ResetRequest, error) {
	r, err := s.ResetRequestStore.Get(ctx, id)
	r.OrganizationID = s.org
	return r, err
}

// The organisation of a request is checked again under the lock of its profile: a decision
// never acts on a request that, by then, is another organisation's.
func TestDecisionsCheckTheOrganisationUnderTheLock(t *testing.T) {
	for name, uc := range orgUseCases {
		if name != "approve" && name != "decline" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := newOrgEnv(t)
			stale := newProfileEnvWith(t, func(d *identification.ProfileDeps) {
				d.Profiles, d.ResetRequests = e.profiles, profileOrgStaleRequests{ResetRequestStore: e.requests, org: "org-a"}
				d.Tokens.(*memory.Tokens).Add(tokOrgA, ports.Claims{Subject: "opa", OrgID: "org-a", ExpiresAt: profileT0.Add(time.Hour),
					Permissions: []string{identification.PermissionResetIdentificationInitiator}})
			})
			before := e.everything(t)
			missing := uc.call(stale.svc, tokOrgA, "nobody", "r-none", uc.good)
			err := uc.call(stale.svc, tokOrgA, "b1", "rb1", uc.good)
			require.Equal(t, errorAnswerOf(t, missing), errorAnswerOf(t, err))
			profileRequireErr(t, err, verifykit.KindNotFound, identification.MsgResetRequestNotFound)
			require.Equal(t, before, e.everything(t), "nothing changed")
			require.NoError(t, uc.call(stale.svc, tokOrgA, "a1", "ra1", uc.good), "its own organisation's request")
		})
	}
}

package identification_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

func TestResetIdentificationValidation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		userID  string
		fields  []string
		entries []string
	}{
		{"no fields", "u1", nil, []string{"$.fields required"}},
		{"empty list", "u1", []string{}, []string{"$.fields required"}},
		{"unknown", "u1", []string{"contact.email", "person.age"}, []string{"$.fields[1] inclusion"}},
		{"empty entries", "u1", []string{"", "contact.email", "  "}, []string{"$.fields[0] required", "$.fields[2] required"}},
		{"duplicate", "u1", []string{"contact.email", "address.city", "contact.email"}, []string{"$.fields[2] uniqueness"}},
		{"not resettable", "u1", []string{"status", "contact.id", "security.twoFactorsAuthEnabled", "contact.socialMedias", "person"}, []string{
			"$.fields[0] inclusion", "$.fields[1] inclusion", "$.fields[2] inclusion", "$.fields[3] inclusion", "$.fields[4] inclusion",
		}},
		{"case and spaces matter", "u1", []string{"Contact.Email", " contact.email"}, []string{"$.fields[0] inclusion", "$.fields[1] inclusion"}},
		{"every problem at once", "", []string{"x", "", "contact.email", "contact.email"}, []string{
			"id required", "$.fields[0] inclusion", "$.fields[1] required", "$.fields[3] uniqueness",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newProfileEnv(t)
			env.addProfile(t, "u1", "org", ports.IdentificationApproved)
			_, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
			require.NoError(t, err)
			before := env.stored(t, "u1")
			require.NotNil(t, before.OpenResetRequest, "the profile holds its open request")
			_, err = env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: tc.userID, Fields: tc.fields})
			require.Equal(t, tc.entries, profileEntries(t, err))
			require.Equal(t, before, env.stored(t, "u1"), "nothing changed")
			open, err := env.requests.Open(ctx, "u1")
			require.NoError(t, err)
			require.Equal(t, ports.ResetRequestPending, open.Status, "the request is still pending")
			require.Equal(t, []ports.ProfileAuditAction{ports.AuditResetRequested}, env.actions(t, "u1"))
		})
	}

	env := newProfileEnv(t)
	_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: []string{"person.namePlain.first", "nope"}})
	e := profileRequireErr(t, err, verifykit.KindInvalidInput, "Validation failed.")
	require.Equal(t, []verifykit.InvalidEntry{{
		Entry: "$.fields[1]", EntryType: verifykit.EntryJSONProperty, Rule: "inclusion", Description: "unknown profile field",
	}}, e.Invalid, "the entry of RULES.md's error body")
}

func TestResetIdentificationAccess(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	before := env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	cases := []struct {
		name  string
		token string
		kind  verifykit.Kind
		msg   string
	}{
		{"no token", "", verifykit.KindUnauthorized, msgInvalidToken},
		{"unknown token", "nope", verifykit.KindUnauthorized, msgInvalidToken},
		{"expired token", tokExpired, verifykit.KindUnauthorized, msgInvalidToken},
		{"without the permission", tokNoPerm, verifykit.KindForbidden, msgNoReset},
		{"the user themself", tokUser, verifykit.KindForbidden, msgNoReset},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Invalid fields too: the token is checked first.
			_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tc.token, UserID: "u1", Fields: []string{"nope"}})
			profileRequireErr(t, err, tc.kind, tc.msg)
			require.Equal(t, before, env.stored(t, "u1"))
		})
	}
	_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u9", Fields: []string{"contact.email"}})
	profileRequireErr(t, err, verifykit.KindNotFound, identification.MsgProfileNotFound)
	require.Empty(t, env.actions(t, ""))
}

func TestResetIdentificationOfClosedProfile(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	before := env.addProfile(t, "u1", "org", ports.IdentificationClosed)
	_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: []string{"contact.email"}})
	profileRequireErr(t, err, verifykit.KindConflict, identification.MsgProfileClosed)
	require.Equal(t, before, env.stored(t, "u1"))
	require.Empty(t, env.actions(t, "u1"))
}

func TestResetIdentificationEffect(t *testing.T) {
	ctx := context.Background()
	for _, from := range allIdentificationStatuses {
		if from == ports.IdentificationClosed {
			continue
		}
		t.Run(string(from), func(t *testing.T) {
			env := newProfileEnv(t)
			before := env.addProfile(t, "u1", "org-1", from)
			env.addProfile(t, "u2", "org-1", from)
			asked, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
			require.NoError(t, err)
			other, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser2})
			require.NoError(t, err)

			env.clock.Advance(time.Minute)
			now := env.clock.Now()
			fields := []string{"person.namePlain.first", "contact.email", "address.city"}
			res, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: fields})
			require.NoError(t, err)
			require.Equal(t, identification.StatusOK, res.Status)
			require.Equal(t, ports.IdentificationNone, res.Profile.Status)
			require.Equal(t, before.Profile.Contact.Email, res.Profile.Contact.Email, "values are kept; the user updates them")

			rec := env.stored(t, "u1")
			require.Equal(t, ports.IdentificationNone, rec.Profile.Status)
			require.Equal(t, []ports.ProfileDocument{
				{ID: "d1", Type: "PASSPORT", Status: ports.DocumentOutdated, UpdatedAt: now},
				{ID: "d2", Type: "SELFIE", Status: ports.DocumentOutdated, UpdatedAt: now},
			}, rec.Documents)
			require.Equal(t, fields, rec.MandatoryFields)
			require.Equal(t, fields, rec.PendingFields)
			require.Equal(t, "op1", rec.ResetBy)
			require.Equal(t, now, rec.ResetAt)
			require.Nil(t, rec.OpenResetRequest, "the approved request is no longer open")
			require.Equal(t, other.Request.ID, env.stored(t, "u2").OpenResetRequest.ID)

			done, err := env.requests.Get(ctx, asked.Request.ID)
			require.NoError(t, err)
			require.Equal(t, ports.ResetRequestApproved, done.Status)
			require.Equal(t, "op1", done.DecidedBy)
			require.Equal(t, now, done.DecidedAt)
			untouched, err := env.requests.Get(ctx, other.Request.ID)
			require.NoError(t, err)
			require.Equal(t, ports.ResetRequestPending, untouched.Status, "another user's request is untouched")
			require.Equal(t, from, env.stored(t, "u2").Profile.Status)

			evs, err := env.audit.Events(ctx, "u1")
			require.NoError(t, err)
			require.Len(t, evs, 2)
			require.Equal(t, ports.ProfileAuditEvent{
				ID: evs[1].ID, Action: ports.AuditIdentificationReset, ActorID: "op1", UserID: "u1", RequestID: asked.Request.ID,
				Fields: fields, From: from, To: ports.IdentificationNone, At: now,
			}, evs[1])

			// Again, with no pending request: the same profile, no request touched.
			again, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: fields})
			require.NoError(t, err)
			require.Equal(t, res, again)
			evs, err = env.audit.Events(ctx, "u1")
			require.NoError(t, err)
			require.Equal(t, "", evs[2].RequestID)
		})
	}
}

func TestResetIdentificationAnswerShowsTheMandatoryFields(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	cases := []struct {
		name   string
		fields []string
	}{
		{"one field", []string{"address.city"}},
		{"in the order given", []string{"person.namePlain.first", "contact.email", "address.city"}},
		{"a second reset replaces them", []string{"contact.phoneNumber"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: tc.fields})
			require.NoError(t, err)
			require.Equal(t, tc.fields, res.MandatoryFields)
			require.Equal(t, env.stored(t, "u1").MandatoryFields, res.MandatoryFields, "what the profile now holds")
			res.MandatoryFields[0] = "changed"
			require.Equal(t, tc.fields[0], env.stored(t, "u1").MandatoryFields[0], "the answer is a copy")
		})
	}
}

func TestAskForReset(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org-7", ports.IdentificationApproved)

	_, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokNoSub})
	profileRequireErr(t, err, verifykit.KindUnauthorized, msgInvalidToken)
	_, err = env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser2})
	profileRequireErr(t, err, verifykit.KindNotFound, identification.MsgProfileNotFound)
	_, err = env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser, Description: strings.Repeat("x", 1001)})
	require.Equal(t, []string{"$.description length"}, profileEntries(t, err))

	res, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser, Description: "new passport"})
	require.NoError(t, err)
	require.Equal(t, identification.StatusOK, res.Status)
	require.NotEmpty(t, res.Request.ID)
	require.Equal(t, ports.ResetRequest{
		ID: res.Request.ID, UserID: "u1", Description: "new passport", OrganizationID: "org-7",
		Status: ports.ResetRequestPending, InitiatorUserID: "u1", CreatedAt: profileT0,
	}, res.Request)

	_, err = env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	profileRequireErr(t, err, verifykit.KindConflict, identification.MsgResetRequestOpen)

	_, err = env.svc.DeclineResetRequest(ctx, identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: res.Request.ID})
	require.NoError(t, err)
	_, err = env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	require.NoError(t, err, "a declined request is closed: the user may ask again")

	closed := newProfileEnv(t)
	closed.addProfile(t, "u1", "org", ports.IdentificationClosed)
	_, err = closed.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	profileRequireErr(t, err, verifykit.KindConflict, identification.MsgProfileClosed)
}

// profileRequireOneOK requires exactly one nil error, every other of kind with msg.
func profileRequireOneOK(t *testing.T, errs []error, kind verifykit.Kind, msg string) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		profileRequireErr(t, err, kind, msg)
	}
	require.Equal(t, 1, ok)
}

func TestAskForResetConcurrentlyOpensOne(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser}) })
	}
	wg.Wait()
	profileRequireOneOK(t, errs, verifykit.KindConflict, identification.MsgResetRequestOpen)
}

func TestDecideResetRequest(t *testing.T) {
	ctx := context.Background()
	decide := map[string]func(*identification.ProfileService, context.Context, identification.DecideResetRequest) (identification.ResetRequestResult, error){
		"approve": (*identification.ProfileService).ApproveResetRequest,
		"decline": (*identification.ProfileService).DeclineResetRequest,
	}
	want := map[string]ports.ResetRequestStatus{"approve": ports.ResetRequestApproved, "decline": ports.ResetRequestDeclined}
	action := map[string]ports.ProfileAuditAction{"approve": ports.AuditResetRequestApproved, "decline": ports.AuditResetRequestDeclined}
	for name, fn := range decide {
		t.Run(name, func(t *testing.T) {
			env := newProfileEnv(t)
			env.addProfile(t, "u1", "org", ports.IdentificationApproved)
			env.addProfile(t, "u2", "org", ports.IdentificationApproved)
			asked, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
			require.NoError(t, err)
			id := asked.Request.ID

			checks := []struct {
				req  identification.DecideResetRequest
				kind verifykit.Kind
				msg  string
			}{
				{identification.DecideResetRequest{Token: tokExpired, UserID: "u1", RequestID: id}, verifykit.KindUnauthorized, msgInvalidToken},
				{identification.DecideResetRequest{Token: tokNoPerm, UserID: "u1", RequestID: id}, verifykit.KindForbidden, msgNoReset},
				{identification.DecideResetRequest{Token: tokUser, UserID: "u1", RequestID: id}, verifykit.KindForbidden, msgNoReset},
				{identification.DecideResetRequest{Token: tokOperator}, verifykit.KindInvalidInput, "Validation failed."},
				{identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: "unknown"}, verifykit.KindNotFound, identification.MsgResetRequestNotFound},
				{identification.DecideResetRequest{Token: tokOperator, UserID: "u2", RequestID: id}, verifykit.KindNotFound, identification.MsgResetRequestNotFound},
			}
			for _, c := range checks {
				_, err := fn(env.svc, ctx, c.req)
				profileRequireErr(t, err, c.kind, c.msg)
			}
			_, err = fn(env.svc, ctx, identification.DecideResetRequest{Token: tokOperator})
			require.Equal(t, []string{"userId required", "reqId required"}, profileEntries(t, err))
			open, err := env.requests.Open(ctx, "u1")
			require.NoError(t, err, "still pending after every refusal")
			require.Equal(t, id, open.ID)

			env.clock.Advance(time.Minute)
			res, err := fn(env.svc, ctx, identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: id})
			require.NoError(t, err)
			require.Equal(t, identification.StatusOK, res.Status)
			require.Equal(t, want[name], res.Request.Status)
			require.Equal(t, "op1", res.Request.DecidedBy)
			require.Equal(t, profileT0.Add(time.Minute), res.Request.DecidedAt)
			require.Equal(t, ports.IdentificationApproved, env.stored(t, "u1").Profile.Status, "deciding does not reset the profile")

			for other := range decide {
				_, err := decide[other](env.svc, ctx, identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: id})
				profileRequireErr(t, err, verifykit.KindConflict, identification.MsgResetRequestNotPending)
			}
			require.Equal(t, []ports.ProfileAuditAction{ports.AuditResetRequested, action[name]}, env.actions(t, "u1"))
		})
	}
}

func TestDecideResetRequestConcurrentlyOnce(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	asked, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	require.NoError(t, err)
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: asked.Request.ID}
			if i%2 == 0 {
				_, errs[i] = env.svc.ApproveResetRequest(ctx, req)
			} else {
				_, errs[i] = env.svc.DeclineResetRequest(ctx, req)
			}
		})
	}
	wg.Wait()
	profileRequireOneOK(t, errs, verifykit.KindConflict, identification.MsgResetRequestNotPending)
	require.Len(t, env.actions(t, "u1"), 2, "one request, one decision")
}

// profileStaleRequests is a reset request store whose Get answers what it read first, as a
// read that raced with a decision would.
type profileStaleRequests struct {
	ports.ResetRequestStore
	mu   sync.Mutex
	seen map[string]ports.ResetRequest
}

func (s *profileStaleRequests) Get(ctx context.Context, id string) (ports.ResetRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.seen[id]; ok {
		return r, nil
	}
	r, err := s.ResetRequestStore.Get(ctx, id)
	if err == nil {
		s.seen[id] = r
	}
	return r, err
}

// A decision that read the request while it was PENDING, but gets the profile's lock after
// another decision, is refused under the lock and changes nothing.
func TestDecideResetRequestDecidedMeanwhile(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnvWith(t, func(d *identification.ProfileDeps) {
		d.ResetRequests = &profileStaleRequests{ResetRequestStore: d.ResetRequests, seen: map[string]ports.ResetRequest{}}
	})
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	asked, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	require.NoError(t, err)
	req := identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: asked.Request.ID}
	_, err = env.svc.DeclineResetRequest(ctx, req)
	require.NoError(t, err)
	_, err = env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	require.NoError(t, err, "another request is open now")

	_, err = env.svc.ApproveResetRequest(ctx, req)
	profileRequireErr(t, err, verifykit.KindConflict, identification.MsgResetRequestNotPending)
	done, err := env.requests.Get(ctx, asked.Request.ID)
	require.NoError(t, err)
	require.Equal(t, ports.ResetRequestDeclined, done.Status)
	require.Equal(t, ports.ResetRequestPending, env.stored(t, "u1").OpenResetRequest.Status, "the other request is untouched")
	require.Equal(t, []ports.ProfileAuditAction{
		ports.AuditResetRequested, ports.AuditResetRequestDeclined, ports.AuditResetRequested,
	}, env.actions(t, "u1"))
}

func TestViewResetRequests(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	view := func(req identification.ViewResetRequestsRequest) (identification.ViewResetRequestsResult, error) {
		req.Token = tokOperator
		return env.svc.ViewResetRequests(ctx, req)
	}

	t.Run("empty", func(t *testing.T) {
		res, err := view(identification.ViewResetRequestsRequest{PageSize: 10})
		require.NoError(t, err)
		require.Equal(t, identification.ViewResetRequestsResult{Status: "ok", PageSize: 10, Records: []ports.ResetRequest{}}, res)
	})

	// Seven users in two organisations ask, a minute apart; u1 is declined.
	for i := 1; i <= 7; i++ {
		user := fmt.Sprintf("u%d", i)
		org := "org-a"
		if i%2 == 0 {
			org = "org-b"
		}
		env.addProfile(t, user, org, ports.IdentificationApproved)
		_, err := env.profiles.Update(ctx, user, func(r *ports.ProfileRecord) error {
			r.OpenResetRequest = &ports.ResetRequest{
				ID: fmt.Sprintf("r%d", i), UserID: user, OrganizationID: org, Status: ports.ResetRequestPending,
				InitiatorUserID: user, CreatedAt: profileT0.Add(time.Duration(i) * time.Minute),
			}
			return nil
		})
		require.NoError(t, err)
	}
	_, err := env.svc.DeclineResetRequest(ctx, identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: "r1"})
	require.NoError(t, err)

	ids := func(res identification.ViewResetRequestsResult) []string {
		out := []string{}
		for _, r := range res.Records {
			out = append(out, r.ID)
		}
		return out
	}
	pages := []struct {
		name                string
		req                 identification.ViewResetRequestsRequest
		ids                 []string
		totalRecords, pages int
	}{
		{"first page", identification.ViewResetRequestsRequest{PageSize: 3}, []string{"r1", "r2", "r3"}, 7, 3},
		{"middle page", identification.ViewResetRequestsRequest{PageNumber: 1, PageSize: 3}, []string{"r4", "r5", "r6"}, 7, 3},
		{"last partial page", identification.ViewResetRequestsRequest{PageNumber: 2, PageSize: 3}, []string{"r7"}, 7, 3},
		{"page past the end", identification.ViewResetRequestsRequest{PageNumber: 3, PageSize: 3}, []string{}, 7, 3},
		{"far past the end", identification.ViewResetRequestsRequest{PageNumber: 1 << 62, PageSize: 100}, []string{}, 7, 1},
		{"exact pages", identification.ViewResetRequestsRequest{PageNumber: 6, PageSize: 1}, []string{"r7"}, 7, 7},
		{"one page holds all", identification.ViewResetRequestsRequest{PageSize: 100}, []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"}, 7, 1},
		{"pending only", identification.ViewResetRequestsRequest{Filter: identification.ResetRequestFilter{Status: ports.ResetRequestPending}, PageSize: 2}, []string{"r2", "r3"}, 6, 3},
		{"organisation", identification.ViewResetRequestsRequest{Filter: identification.ResetRequestFilter{OrganizationID: "org-b"}, PageSize: 10}, []string{"r2", "r4", "r6"}, 3, 1},
		{"declined of org-a", identification.ViewResetRequestsRequest{Filter: identification.ResetRequestFilter{Status: ports.ResetRequestDeclined, OrganizationID: "org-a"}, PageSize: 10}, []string{"r1"}, 1, 1},
		{"newest first", identification.ViewResetRequestsRequest{Sort: identification.ResetRequestSort{CreatedAt: "DESC"}, PageSize: 3}, []string{"r7", "r6", "r5"}, 7, 3},
		{"organisation then status", identification.ViewResetRequestsRequest{Sort: identification.ResetRequestSort{OrganizationID: "desc", Status: "asc"}, PageSize: 10},
			[]string{"r2", "r4", "r6", "r1", "r3", "r5", "r7"}, 7, 1},
	}
	for _, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			res, err := view(tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.ids, ids(res))
			require.Equal(t, tc.totalRecords, res.TotalRecords)
			require.Equal(t, tc.pages, res.TotalPages)
			require.Equal(t, tc.req.PageNumber, res.PageNumber)
			require.Equal(t, tc.req.PageSize, res.PageSize)
			require.Equal(t, "ok", res.Status)
		})
	}

	invalid := []struct {
		name    string
		req     identification.ViewResetRequestsRequest
		entries []string
	}{
		{"page size 0", identification.ViewResetRequestsRequest{PageSize: 0}, []string{"$.pageSize range"}},
		{"page size over the maximum", identification.ViewResetRequestsRequest{PageSize: 101}, []string{"$.pageSize range"}},
		{"negative page size", identification.ViewResetRequestsRequest{PageSize: -1}, []string{"$.pageSize range"}},
		{"negative page", identification.ViewResetRequestsRequest{PageNumber: -1, PageSize: 10}, []string{"$.pageNumber range"}},
		{"bad filter and sort", identification.ViewResetRequestsRequest{
			Filter: identification.ResetRequestFilter{Status: "pending"}, Sort: identification.ResetRequestSort{Status: "up", UserID: "down"}, PageSize: 10,
		}, []string{"$.filter.status inclusion", "$.sort.status inclusion", "$.sort.userId inclusion"}},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, err := view(tc.req)
			require.Equal(t, tc.entries, profileEntries(t, err))
		})
	}
	res, err := view(identification.ViewResetRequestsRequest{PageSize: 100})
	require.NoError(t, err, "the maximum itself is accepted")
	require.Len(t, res.Records, 7)

	_, err = env.svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{Token: tokNoPerm, PageSize: 0})
	profileRequireErr(t, err, verifykit.KindForbidden, msgNoReset)
	_, err = env.svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{Token: "", PageSize: 10})
	profileRequireErr(t, err, verifykit.KindUnauthorized, msgInvalidToken)
}

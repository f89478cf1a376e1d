package identification_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

var profileT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Tokens of the profile tests.
const (
	tokUser     = "tok-user"     // user u1
	tokUser2    = "tok-user2"    // user u2
	tokOperator = "tok-operator" // operator op1, RESET_IDENTIFICATION_INITIATOR and IDENTIFICATION_REVIEWER
	tokNoPerm   = "tok-noperm"   // operator op2, no permission
	tokExpired  = "tok-expired"  // operator op3, expired
	tokNoSub    = "tok-nosub"    // a token without a subject
)

const (
	msgInvalidToken = "Invalid access token"
	msgNoReset      = "Your scope does not allow to access this resource. Missing allowances: RESET_IDENTIFICATION_INITIATOR"
	msgNoReview     = "Your scope does not allow to access this resource. Missing allowances: IDENTIFICATION_REVIEWER"
)

type profileEnv struct {
	svc      *identification.ProfileService
	profiles *memory.ProfileStore
	requests *memory.ResetRequestStore
	audit    *memory.ProfileAuditLog
	clock    *memory.Clock
}

func newProfileEnv(t testing.TB) *profileEnv {
	return newProfileEnvWith(t, func(*identification.ProfileDeps) {})
}

func newProfileEnvWith(t testing.TB, edit func(*identification.ProfileDeps)) *profileEnv {
	t.Helper()
	profiles := memory.NewProfileStore()
	e := &profileEnv{
		profiles: profiles,
		requests: profiles.ResetRequests(),
		audit:    profiles.AuditLog(),
		clock:    memory.NewClock(profileT0),
	}
	tokens := memory.NewTokens()
	exp := profileT0.Add(24 * time.Hour)
	tokens.Add(tokUser, ports.Claims{Subject: "u1", ExpiresAt: exp})
	tokens.Add(tokUser2, ports.Claims{Subject: "u2", ExpiresAt: exp})
	tokens.Add(tokOperator, ports.Claims{Subject: "op1", ExpiresAt: exp, Permissions: []string{
		identification.PermissionResetIdentificationInitiator, identification.PermissionIdentificationReviewer,
	}})
	tokens.Add(tokNoPerm, ports.Claims{Subject: "op2", ExpiresAt: exp, Scopes: []string{"profile:write"}})
	tokens.Add(tokExpired, ports.Claims{Subject: "op3", ExpiresAt: profileT0, Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	tokens.Add(tokNoSub, ports.Claims{ExpiresAt: exp})
	deps := identification.ProfileDeps{Profiles: e.profiles, ResetRequests: e.requests, Tokens: tokens, Clock: e.clock}
	edit(&deps)
	svc, err := identification.NewProfileService(deps, identification.DefaultProfileConfig())
	require.NoError(t, err)
	e.svc = svc
	return e
}

// addProfile stores a filled-in profile of user in status st, with two documents.
func (e *profileEnv) addProfile(t testing.TB, user, org string, st ports.IdentificationStatus) ports.ProfileRecord {
	t.Helper()
	rec := ports.ProfileRecord{
		UserID: user, OrganizationID: org,
		Profile: ports.Profile{
			Person: ports.ProfilePerson{NamePlain: ports.ProfileName{First: "Anna", Last: "Smith"}, NameIntl: ports.ProfileName{First: "Anna", Last: "Smith"}},
			Contact: ports.ProfileContact{
				ID: "c-" + user, Email: user + "@example.com", PhoneNumber: "+380931234567", City: "Kyiv",
				SocialMedias: []ports.ProfileSocialMedia{{ID: "s1", SocialMediaType: "x", SocialMediaReference: "@anna"}},
			},
			Type: "base", Status: st,
			Business: ports.ProfileBusiness{Legal: "individual", Type: "eshop"},
			Address:  ports.ProfileAddress{Country: "UA", City: "Kyiv", Street: "Main", HouseNumber: "1"},
		},
		Documents: []ports.ProfileDocument{
			{ID: "d1", Type: "PASSPORT", Status: ports.DocumentApproved, UpdatedAt: profileT0.Add(-time.Hour)},
			{ID: "d2", Type: "SELFIE", Status: ports.DocumentInVerification, UpdatedAt: profileT0.Add(-time.Hour)},
		},
		CreatedAt: profileT0.Add(-time.Hour), UpdatedAt: profileT0.Add(-time.Hour),
	}
	require.NoError(t, e.profiles.Create(context.Background(), rec))
	return e.stored(t, user) // as stored: with the version the store gave it
}

func (e *profileEnv) stored(t testing.TB, user string) ports.ProfileRecord {
	t.Helper()
	rec, err := e.profiles.Get(context.Background(), user)
	require.NoError(t, err)
	return rec
}

func (e *profileEnv) actions(t testing.TB, user string) []ports.ProfileAuditAction {
	t.Helper()
	evs, err := e.audit.Events(context.Background(), user)
	require.NoError(t, err)
	out := []ports.ProfileAuditAction{}
	for _, ev := range evs {
		out = append(out, ev.Action)
	}
	return out
}

// profileRequireErr requires err to be a *verifykit.Error of kind with message msg.
func profileRequireErr(t testing.TB, err error, kind verifykit.Kind, msg string) *verifykit.Error {
	t.Helper()
	var e *verifykit.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, kind, e.Kind, e.Error())
	require.Equal(t, msg, e.Message)
	return e
}

// profileEntries returns "entry rule" of every invalid entry of err.
func profileEntries(t testing.TB, err error) []string {
	t.Helper()
	e := profileRequireErr(t, err, verifykit.KindInvalidInput, "Validation failed.")
	out := make([]string, len(e.Invalid))
	for i, in := range e.Invalid {
		out[i] = in.Entry + " " + in.Rule
	}
	return out
}

var allIdentificationStatuses = []ports.IdentificationStatus{
	ports.IdentificationNone, ports.IdentificationPending, ports.IdentificationReviewRequired,
	ports.IdentificationDeclined, ports.IdentificationApproved, ports.IdentificationClosed,
}

func TestNewProfileServiceValidates(t *testing.T) {
	_, err := identification.NewProfileService(identification.ProfileDeps{}, identification.DefaultProfileConfig())
	e := profileRequireErr(t, err, verifykit.KindInvalidInput, "Validation failed.")
	var names []string
	for _, in := range e.Invalid {
		require.Equal(t, verifykit.EntryConfig, in.EntryType)
		names = append(names, in.Entry)
	}
	require.Equal(t, []string{"Profiles", "ResetRequests", "Tokens"}, names)

	env := newProfileEnv(t)
	_, err = identification.NewProfileService(identification.ProfileDeps{}, identification.ProfileConfig{})
	e = profileRequireErr(t, err, verifykit.KindInvalidInput, "Invalid profile identification configuration.")
	require.Len(t, e.Invalid, 5, "every zero value is reported")
	require.Equal(t, identification.DefaultProfileConfig(), env.svc.Config())
}

// The table of RULES.md §C, pair by pair.
func TestCanChangeIdentificationStatus(t *testing.T) {
	allowed := map[ports.IdentificationStatus][]ports.IdentificationStatus{
		ports.IdentificationNone:           {ports.IdentificationPending, ports.IdentificationClosed},
		ports.IdentificationPending:        {ports.IdentificationReviewRequired, ports.IdentificationDeclined, ports.IdentificationApproved, ports.IdentificationClosed},
		ports.IdentificationReviewRequired: {ports.IdentificationDeclined, ports.IdentificationApproved, ports.IdentificationClosed},
		ports.IdentificationDeclined:       {ports.IdentificationPending, ports.IdentificationClosed},
		ports.IdentificationApproved:       {ports.IdentificationPending, ports.IdentificationClosed},
		ports.IdentificationClosed:         nil,
	}
	n := 0
	for _, from := range allIdentificationStatuses {
		for _, to := range allIdentificationStatuses {
			want := false
			for _, a := range allowed[from] {
				want = want || a == to
			}
			if want {
				n++
			}
			require.Equal(t, want, identification.CanChangeIdentificationStatus(from, to), "%s -> %s", from, to)
		}
	}
	require.Equal(t, 13, n)
	require.False(t, identification.CanChangeIdentificationStatus("bogus", ports.IdentificationPending))
}

// Every transition of the table through the operator's use case: allowed ones change the
// status and are audited, refused ones are 409 and change nothing.
func TestSetIdentificationStatusEveryTransition(t *testing.T) {
	ctx := context.Background()
	for _, from := range allIdentificationStatuses {
		for _, to := range allIdentificationStatuses {
			t.Run(fmt.Sprintf("%s_to_%s", from, to), func(t *testing.T) {
				env := newProfileEnv(t)
				before := env.addProfile(t, "u1", "org", from)
				res, err := env.svc.SetIdentificationStatus(ctx, identification.SetIdentificationStatusRequest{Token: tokOperator, UserID: "u1", Status: to})
				if !identification.CanChangeIdentificationStatus(from, to) {
					profileRequireErr(t, err, verifykit.KindConflict, fmt.Sprintf("Identification status cannot change from %s to %s", from, to))
					require.Equal(t, before, env.stored(t, "u1"), "a refused transition changes nothing")
					require.Empty(t, env.actions(t, "u1"))
					return
				}
				require.NoError(t, err)
				require.Equal(t, to, res.Profile.Status)
				require.Equal(t, to, env.stored(t, "u1").Profile.Status)
				evs, err := env.audit.Events(ctx, "u1")
				require.NoError(t, err)
				require.Len(t, evs, 1)
				require.Equal(t, ports.ProfileAuditEvent{
					ID: evs[0].ID, Action: ports.AuditIdentificationStatus, ActorID: "op1", UserID: "u1", From: from, To: to, At: profileT0,
				}, evs[0])
			})
		}
	}
}

func TestSetIdentificationStatusChecks(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org", ports.IdentificationPending)
	cases := []struct {
		name string
		req  identification.SetIdentificationStatusRequest
		kind verifykit.Kind
		msg  string
	}{
		{"no token", identification.SetIdentificationStatusRequest{UserID: "u1", Status: "approved"}, verifykit.KindUnauthorized, msgInvalidToken},
		{"unknown token", identification.SetIdentificationStatusRequest{Token: "nope", UserID: "u1", Status: "approved"}, verifykit.KindUnauthorized, msgInvalidToken},
		{"expired token", identification.SetIdentificationStatusRequest{Token: tokExpired, UserID: "u1", Status: "approved"}, verifykit.KindUnauthorized, msgInvalidToken},
		{"no permission", identification.SetIdentificationStatusRequest{Token: tokNoPerm, UserID: "u1", Status: "approved"}, verifykit.KindForbidden, msgNoReview},
		{"a user", identification.SetIdentificationStatusRequest{Token: tokUser, UserID: "u1", Status: "approved"}, verifykit.KindForbidden, msgNoReview},
		{"bad input", identification.SetIdentificationStatusRequest{Token: tokOperator, Status: "done"}, verifykit.KindInvalidInput, "Validation failed."},
		{"no profile", identification.SetIdentificationStatusRequest{Token: tokOperator, UserID: "u9", Status: "approved"}, verifykit.KindNotFound, identification.MsgProfileNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.svc.SetIdentificationStatus(ctx, tc.req)
			profileRequireErr(t, err, tc.kind, tc.msg)
		})
	}
	_, err := env.svc.SetIdentificationStatus(ctx, identification.SetIdentificationStatusRequest{Token: tokOperator, Status: "done"})
	require.Equal(t, []string{"userId required", "$.status inclusion"}, profileEntries(t, err))
	require.Equal(t, ports.IdentificationPending, env.stored(t, "u1").Profile.Status)
}

func TestMyProfile(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	_, err := env.svc.MyProfile(ctx, identification.MyProfileRequest{Token: tokUser})
	profileRequireErr(t, err, verifykit.KindNotFound, identification.MsgProfileNotFound)
	_, err = env.svc.MyProfile(ctx, identification.MyProfileRequest{Token: tokNoSub})
	profileRequireErr(t, err, verifykit.KindUnauthorized, msgInvalidToken)

	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	env.addProfile(t, "u2", "org", ports.IdentificationNone)
	res, err := env.svc.MyProfile(ctx, identification.MyProfileRequest{Token: tokUser})
	require.NoError(t, err)
	require.Equal(t, "u1", res.UserID, "the profile of the token's subject")
	require.Equal(t, "u1@example.com", res.Profile.Contact.Email)
	require.Equal(t, identification.StatusOK, res.Status)
	require.Equal(t, []string{}, res.PendingFields)
	require.Equal(t, map[string]string{}, res.Profile.Additional)
}

func TestUpdateProfile(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	reset := func(fields ...string) {
		t.Helper()
		_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: fields})
		require.NoError(t, err)
	}
	reset("contact.email", "address.city")

	t.Run("input is checked first, all of it", func(t *testing.T) {
		before := env.stored(t, "u1")
		_, err := env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{
			{Path: "contact.email", Value: "a@b.c"}, {Path: "contact.id", Value: "x"}, {Path: "", Value: "x"},
			{Path: "contact.email", Value: "d@e.f"}, {Path: "address.city", Value: string(make([]byte, 257))},
		}})
		require.Equal(t, []string{
			"$.changes[1].path inclusion", "$.changes[2].path required", "$.changes[3].path uniqueness", "$.changes[4].value length",
		}, profileEntries(t, err))
		_, err = env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser})
		require.Equal(t, []string{"$.changes required"}, profileEntries(t, err))
		require.Equal(t, before, env.stored(t, "u1"), "nothing changed")
	})

	t.Run("a mandatory field cannot be emptied", func(t *testing.T) {
		_, err := env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{
			{Path: "person.namePlain.middle", Value: ""}, {Path: "address.city", Value: ""},
		}})
		require.Equal(t, []string{"$.changes[1].value required"}, profileEntries(t, err))
		require.Equal(t, "Smith", env.stored(t, "u1").Profile.Person.NamePlain.Last)
	})

	t.Run("updates set values and clear pending fields", func(t *testing.T) {
		env.clock.Advance(time.Minute)
		res, err := env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{
			{Path: "address.city", Value: "Lviv"}, {Path: "person.namePlain.middle", Value: ""},
		}})
		require.NoError(t, err)
		require.Equal(t, "Lviv", res.Profile.Address.City)
		require.Equal(t, []string{"contact.email", "address.city"}, res.MandatoryFields)
		require.Equal(t, []string{"contact.email"}, res.PendingFields)
		rec := env.stored(t, "u1")
		require.Equal(t, "Lviv", rec.Profile.Address.City)
		require.Equal(t, profileT0.Add(time.Minute), rec.UpdatedAt)
	})

	for st, msg := range map[ports.IdentificationStatus]string{
		ports.IdentificationPending:        identification.MsgProfileUnderReview,
		ports.IdentificationReviewRequired: identification.MsgProfileUnderReview,
		ports.IdentificationClosed:         identification.MsgProfileClosed,
		ports.IdentificationApproved:       identification.MsgProfileIdentified,
	} {
		t.Run("refused when "+string(st), func(t *testing.T) {
			env := newProfileEnv(t)
			before := env.addProfile(t, "u1", "org", st)
			_, err := env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{{Path: "address.city", Value: "Lviv"}}})
			profileRequireErr(t, err, verifykit.KindConflict, msg)
			require.Equal(t, before, env.stored(t, "u1"))
		})
	}

	t.Run("token", func(t *testing.T) {
		_, err := env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: "", Changes: []identification.ProfileFieldChange{{Path: "x"}}})
		profileRequireErr(t, err, verifykit.KindUnauthorized, msgInvalidToken)
		_, err = env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser2, Changes: []identification.ProfileFieldChange{{Path: "address.city", Value: "x"}}})
		profileRequireErr(t, err, verifykit.KindNotFound, identification.MsgProfileNotFound)
	})
}

func TestSubmitIdentification(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{
		Token: tokOperator, UserID: "u1", Fields: []string{"person.namePlain.first", "contact.email", "address.city"},
	})
	require.NoError(t, err)

	_, err = env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
	e := profileRequireErr(t, err, verifykit.KindInvalidInput, identification.MsgMandatoryFieldsMissing)
	require.Equal(t, []verifykit.InvalidEntry{
		{Entry: "$.person.namePlain.first", EntryType: verifykit.EntryJSONProperty, Rule: "required", Description: "must be updated before submitting"},
		{Entry: "$.contact.email", EntryType: verifykit.EntryJSONProperty, Rule: "required", Description: "must be updated before submitting"},
		{Entry: "$.address.city", EntryType: verifykit.EntryJSONProperty, Rule: "required", Description: "must be updated before submitting"},
	}, e.Invalid)

	_, err = env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{
		{Path: "contact.email", Value: "new@example.com"}, {Path: "person.namePlain.first", Value: "Anna"},
	}})
	require.NoError(t, err)
	_, err = env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
	e = profileRequireErr(t, err, verifykit.KindInvalidInput, identification.MsgMandatoryFieldsMissing)
	require.Len(t, e.Invalid, 1)
	require.Equal(t, "$.address.city", e.Invalid[0].Entry, "only what is still missing")
	require.Equal(t, ports.IdentificationNone, env.stored(t, "u1").Profile.Status)

	_, err = env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{{Path: "address.city", Value: "Kyiv"}}})
	require.NoError(t, err)
	res, err := env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
	require.NoError(t, err)
	require.Equal(t, ports.IdentificationPending, res.Profile.Status)

	_, err = env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
	profileRequireErr(t, err, verifykit.KindConflict, "Identification status cannot change from pending to pending")
	_, err = env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser2})
	profileRequireErr(t, err, verifykit.KindNotFound, identification.MsgProfileNotFound)
	_, err = env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokExpired})
	profileRequireErr(t, err, verifykit.KindUnauthorized, msgInvalidToken)

	// Submitting follows the table from every status.
	for _, from := range allIdentificationStatuses {
		env := newProfileEnv(t)
		env.addProfile(t, "u1", "org", from)
		_, err := env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
		if identification.CanChangeIdentificationStatus(from, ports.IdentificationPending) {
			require.NoError(t, err, from)
			require.Equal(t, ports.IdentificationPending, env.stored(t, "u1").Profile.Status)
			continue
		}
		profileRequireErr(t, err, verifykit.KindConflict, fmt.Sprintf("Identification status cannot change from %s to pending", from))
		require.Equal(t, from, env.stored(t, "u1").Profile.Status)
	}
}

// The full journey: the user asks, the operator views and resets, the user updates and
// submits, the profile is pending; every step is in the audit log.
func TestProfileJourney(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnv(t)
	env.addProfile(t, "u1", "org-1", ports.IdentificationApproved)

	asked, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser, Description: "I changed my name"})
	require.NoError(t, err)

	page, err := env.svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{
		Token: tokOperator, Filter: identification.ResetRequestFilter{Status: ports.ResetRequestPending, OrganizationID: "org-1"}, PageSize: 20,
	})
	require.NoError(t, err)
	require.Equal(t, 1, page.TotalRecords)
	require.Equal(t, asked.Request.ID, page.Records[0].ID)

	env.clock.Advance(time.Hour)
	reset, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{
		Token: tokOperator, UserID: page.Records[0].UserID, Fields: []string{"person.namePlain.last", "person.nameIntl.last"},
	})
	require.NoError(t, err)
	require.Equal(t, ports.IdentificationNone, reset.Profile.Status)

	_, err = env.svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{
		{Path: "person.namePlain.last", Value: "Jones"}, {Path: "person.nameIntl.last", Value: "Jones"},
	}})
	require.NoError(t, err)
	sub, err := env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
	require.NoError(t, err)
	require.Equal(t, ports.IdentificationPending, sub.Profile.Status)
	require.Equal(t, "Jones", sub.Profile.Person.NamePlain.Last)

	done, err := env.requests.Get(ctx, asked.Request.ID)
	require.NoError(t, err)
	require.Equal(t, ports.ResetRequestApproved, done.Status)
	require.Equal(t, []ports.ProfileAuditAction{
		ports.AuditResetRequested, ports.AuditIdentificationReset, ports.AuditIdentificationSubmitted,
	}, env.actions(t, "u1"))

	// The user may ask again now that the request is closed.
	_, err = env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	require.NoError(t, err)
}

// profileFailingRequests is a reset request store whose Get fails.
type profileFailingRequests struct {
	ports.ResetRequestStore
}

func (profileFailingRequests) Get(context.Context, string) (ports.ResetRequest, error) {
	return ports.ResetRequest{}, errors.New("connection refused")
}

// profileLostCommit is a profile store whose Update, while fail is set, runs fn and then
// loses the connection before its write commits: fn's changes are not stored.
type profileLostCommit struct {
	ports.ProfileStore
	fail *atomic.Bool
}

func (s profileLostCommit) Update(ctx context.Context, userID string, fn func(*ports.ProfileRecord) error) (ports.ProfileRecord, error) {
	errLost := errors.New("connection reset by peer")
	rec, err := s.ProfileStore.Update(ctx, userID, func(r *ports.ProfileRecord) error {
		if err := fn(r); err != nil {
			return err
		}
		if s.fail.Load() {
			return errLost
		}
		return nil
	})
	return rec, err
}

// profileSnapshot is everything stored about one user: profile, reset requests, events.
type profileSnapshot struct {
	profile  ports.ProfileRecord
	requests []ports.ResetRequest
	events   []ports.ProfileAuditEvent
}

func (e *profileEnv) snapshot(t *testing.T, user string) profileSnapshot {
	t.Helper()
	ctx := context.Background()
	var snap profileSnapshot
	snap.profile, _ = e.profiles.Get(ctx, user)
	all, _, err := e.requests.List(ctx, ports.ResetRequestQuery{Limit: 1000})
	require.NoError(t, err)
	for _, r := range all {
		if r.UserID == user {
			snap.requests = append(snap.requests, r)
		}
	}
	snap.events, err = e.audit.Events(ctx, user)
	require.NoError(t, err)
	return snap
}

// A use case whose write is lost stores none of its changes: not the profile, not the
// reset request, not the audit event.
func TestLostWritesChangeNothing(t *testing.T) {
	ctx := context.Background()
	var fail atomic.Bool
	env := newProfileEnvWith(t, func(d *identification.ProfileDeps) {
		d.Profiles = profileLostCommit{ProfileStore: d.Profiles, fail: &fail}
	})
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	env.addProfile(t, "u2", "org", ports.IdentificationApproved)
	asked, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	require.NoError(t, err)

	fail.Store(true)
	before, before2 := env.snapshot(t, "u1"), env.snapshot(t, "u2")
	decide := identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: asked.Request.ID}
	attempts := map[string]func() error{
		"reset": func() error {
			_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: []string{"contact.email"}})
			return err
		},
		"approve": func() error { _, err := env.svc.ApproveResetRequest(ctx, decide); return err },
		"decline": func() error { _, err := env.svc.DeclineResetRequest(ctx, decide); return err },
		"status": func() error {
			_, err := env.svc.SetIdentificationStatus(ctx, identification.SetIdentificationStatusRequest{Token: tokOperator, UserID: "u1", Status: ports.IdentificationClosed})
			return err
		},
		"submit": func() error {
			_, err := env.svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
			return err
		},
		"ask": func() error {
			_, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser2})
			return err
		},
	}
	for name, attempt := range attempts {
		profileRequireErr(t, attempt(), verifykit.KindUnavailable, "profile storage is unavailable")
		require.Equal(t, before, env.snapshot(t, "u1"), name)
		require.Equal(t, before2, env.snapshot(t, "u2"), name)
	}

	fail.Store(false)
	_, err = env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "u1", Fields: []string{"contact.email"}})
	require.NoError(t, err)
	after := env.snapshot(t, "u1")
	require.Equal(t, ports.IdentificationNone, after.profile.Profile.Status)
	require.Nil(t, after.profile.OpenResetRequest)
	require.Equal(t, ports.ResetRequestApproved, after.requests[0].Status)
	require.Equal(t, []ports.ProfileAuditAction{ports.AuditResetRequested, ports.AuditIdentificationReset}, env.actions(t, "u1"))
}

func TestPortFailuresAreUnavailable(t *testing.T) {
	ctx := context.Background()
	env := newProfileEnvWith(t, func(d *identification.ProfileDeps) {
		d.ResetRequests = profileFailingRequests{d.ResetRequests}
	})
	env.addProfile(t, "u1", "org", ports.IdentificationApproved)
	asked, err := env.svc.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser})
	require.NoError(t, err, "asking writes through the profile store only")
	_, err = env.svc.ApproveResetRequest(ctx, identification.DecideResetRequest{Token: tokOperator, UserID: "u1", RequestID: asked.Request.ID})
	profileRequireErr(t, err, verifykit.KindUnavailable, "reset request storage is unavailable")
	open, err := env.requests.Open(ctx, "u1")
	require.NoError(t, err)
	require.Equal(t, ports.ResetRequestPending, open.Status)
	require.Equal(t, []ports.ProfileAuditAction{ports.AuditResetRequested}, env.actions(t, "u1"))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = env.svc.MyProfile(cctx, identification.MyProfileRequest{Token: tokUser})
	require.Equal(t, verifykit.KindUnavailable, verifykit.KindOf(err))
	require.ErrorIs(t, err, context.Canceled)
}

package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/ports"
)

// sampleProfileRecord is a record with every field set, so a round trip shows what a
// store loses.
func sampleProfileRecord(userID string) ports.ProfileRecord {
	return ports.ProfileRecord{
		UserID:         userID,
		OrganizationID: "org-1",
		Profile: ports.Profile{
			Person: ports.ProfilePerson{
				NamePlain:   ports.ProfileName{First: "Олена", Last: "Коваль", Middle: "Петрівна"},
				NameIntl:    ports.ProfileName{First: "Olena", Last: "Koval", Middle: "Petrivna"},
				Description: "customer",
			},
			Contact: ports.ProfileContact{
				ID: "contact-" + userID, Nickname: "olena", FirstName: "Olena", LastName: "Koval",
				Address: "1 Main St", City: "Kyiv", Country: "UA", PostCode: "01001",
				Email: "olena@example.com", PhoneNumber: "+380931234567", PhotoPath: "/p/1.jpg",
				SocialMedias:  []ports.ProfileSocialMedia{{ID: "sm-1", SocialMediaType: "telegram", SocialMediaReference: "@olena"}},
				AccountNumber: "UA00", SwiftBic: "PBANUA2X", OwnerID: userID, LinkedUserID: "linked",
			},
			Type:   "base",
			Status: ports.IdentificationApproved,
			Business: ports.ProfileBusiness{
				CompanyName: "Koval LLC", Legal: "individual", Type: "eshop", Vat: "UA123",
				Administrator: ports.ProfileAdministrator{FirstName: "Ivan", LastName: "Koval", Email: "ivan@example.com", Phone: "+380500000000"},
			},
			Address:    ports.ProfileAddress{Country: "UA", ZipCode: "01001", City: "Kyiv", Street: "Main", HouseNumber: "1"},
			Additional: map[string]string{"source": "branch"},
			Security: ports.ProfileSecurity{
				TwoFactorsAuthEnabled:     true,
				TransactionNotification:   ports.ProfileNotifications{Phone: true},
				AuthorizationNotification: ports.ProfileNotifications{Email: true},
			},
		},
		Documents: []ports.ProfileDocument{
			{ID: "doc-1", Type: "PASSPORT", Status: ports.DocumentApproved, UpdatedAt: base},
			{ID: "doc-2", Type: "SELFIE", Status: ports.DocumentInVerification, UpdatedAt: base.Add(time.Minute)},
		},
		MandatoryFields: []string{"contact.email", "address.city"},
		PendingFields:   []string{"address.city"},
		ResetAt:         base.Add(-time.Hour),
		ResetBy:         "operator-1",
		CreatedAt:       base.Add(-48 * time.Hour),
		UpdatedAt:       base.Add(-time.Hour),
	}
}

// normalizeProfileRecord makes records comparable whatever a store does with time zones
// and with empty versus nil slices and maps.
func normalizeProfileRecord(r ports.ProfileRecord) ports.ProfileRecord {
	r = r.Clone()
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC()
	}
	r.ResetAt, r.CreatedAt, r.UpdatedAt = utc(r.ResetAt), utc(r.CreatedAt), utc(r.UpdatedAt)
	for i := range r.Documents {
		r.Documents[i].UpdatedAt = utc(r.Documents[i].UpdatedAt)
	}
	if len(r.Documents) == 0 {
		r.Documents = nil
	}
	if len(r.MandatoryFields) == 0 {
		r.MandatoryFields = nil
	}
	if len(r.PendingFields) == 0 {
		r.PendingFields = nil
	}
	if len(r.Profile.Contact.SocialMedias) == 0 {
		r.Profile.Contact.SocialMedias = nil
	}
	if len(r.Profile.Additional) == 0 {
		r.Profile.Additional = nil
	}
	if r.OpenResetRequest != nil {
		open := normalizeResetRequest(*r.OpenResetRequest)
		r.OpenResetRequest = &open
	}
	return r
}

// requireSameProfile compares two records but their Versions, which the store sets (see
// "VersionGrowsByOnePerChange").
func requireSameProfile(t *testing.T, want, got ports.ProfileRecord, msgAndArgs ...any) {
	t.Helper()
	want.Version, got.Version = 0, 0
	require.Equal(t, normalizeProfileRecord(want), normalizeProfileRecord(got), msgAndArgs...)
}

// requireOneSuccess requires that exactly one of errs is nil and every other is wantErr.
func requireOneSuccess(t *testing.T, errs []error, wantErr error, msgAndArgs ...any) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, wantErr)
	}
	require.Equal(t, 1, ok, msgAndArgs...)
}

// IDs of reset requests.
const (
	resetID1 = "00000000-0000-0000-0000-000000000001"
	resetID2 = "00000000-0000-0000-0000-000000000002"
	resetID3 = "00000000-0000-0000-0000-000000000003"
)

// errStop is what the suites' update functions return to abort an update.
var errStop = errors.New("porttest: stop")

// ProfileStores are the ports of one adapter's profile aggregates, over the same data: the
// ResetRequestStore reads the requests and the ProfileAuditLog the events that the
// ProfileStore writes.
type ProfileStores struct {
	// Profiles writes the profiles, their reset requests and their events.
	Profiles SeedableProfileStore
	// ResetRequests reads the reset requests Profiles writes.
	ResetRequests ports.ResetRequestStore
	// Audit reads the profile events Profiles writes (ports.ProfileAuditEventOf); its
	// Append is a host's own.
	Audit ports.ProfileAuditLog
	// Outbox, when set, reads the events Profiles writes with its changes (the records'
	// Outbox), so that the suite checks them too; nil: not checked.
	Outbox ports.OutboxStore
}

func resetRequest(id, user, org string, status ports.ResetRequestStatus, created time.Time) ports.ResetRequest {
	return ports.ResetRequest{
		ID: id, UserID: user, OrganizationID: org, Status: status,
		Description: "please reset " + user, InitiatorUserID: user, CreatedAt: created,
	}
}

// decided returns r decided to status by op at base plus a minute.
func decided(r ports.ResetRequest, status ports.ResetRequestStatus, op string) ports.ResetRequest {
	r.Status, r.DecidedBy, r.DecidedAt = status, op, base.Add(time.Minute)
	return r
}

func normalizeResetRequest(r ports.ResetRequest) ports.ResetRequest {
	r.CreatedAt = r.CreatedAt.UTC()
	if !r.DecidedAt.IsZero() {
		r.DecidedAt = r.DecidedAt.UTC()
	}
	return r
}

func resetRequestIDs(rs []ports.ResetRequest) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

// auditEvent is an event with every field set.
func auditEvent(id, user string, fields ...string) ports.ProfileAuditEvent {
	return ports.ProfileAuditEvent{
		ID: id, Action: ports.AuditIdentificationReset, ActorID: "op", UserID: user, RequestID: "r-" + id,
		Fields: fields, From: ports.IdentificationApproved, To: ports.IdentificationNone, At: base,
	}
}

// audit appends the events of evs to r's Outbox, as the identification flow does: each
// ports.ProfileEvent of the audit event, in the profile's organisation.
func audit(r *ports.ProfileRecord, evs ...ports.ProfileAuditEvent) {
	for _, ev := range evs {
		r.Outbox = append(r.Outbox, ports.ProfileEvent(ev, r.OrganizationID))
	}
}

// normalizeEvents makes events comparable whatever a store does with time zones and with
// empty versus nil slices.
func normalizeEvents(evs []ports.ProfileAuditEvent) []ports.ProfileAuditEvent {
	for i := range evs {
		evs[i].At = evs[i].At.UTC()
		if len(evs[i].Fields) == 0 {
			evs[i].Fields = nil
		}
	}
	return evs
}

// events returns the normalised audit events of user ("" for all).
func events(t *testing.T, st ProfileStores, user string) []ports.ProfileAuditEvent {
	t.Helper()
	evs, err := st.Audit.Events(context.Background(), user)
	require.NoError(t, err)
	return normalizeEvents(evs)
}

// openRequest returns the user's open request as the profile store reads it, nil when
// there is none; with f.ResetRequestOpen, the Open of ResetRequests must read the same.
func openRequest(t *testing.T, st ProfileStores, f Features, user string) *ports.ResetRequest {
	t.Helper()
	ctx := context.Background()
	var open *ports.ResetRequest
	rec, err := st.Profiles.Get(ctx, user)
	if !errors.Is(err, ports.ErrProfileNotFound) {
		require.NoError(t, err)
		if rec.OpenResetRequest != nil {
			r := normalizeResetRequest(*rec.OpenResetRequest)
			open = &r
		}
	}
	if o, ok := declared[ResetRequestOpener](t, st.ResetRequests, f.ResetRequestOpen); ok {
		r, err := o.Open(ctx, user)
		if errors.Is(err, ports.ErrResetRequestNotFound) {
			require.Nil(t, open, "Open finds no request where the profile has one")
		} else {
			require.NoError(t, err)
			require.NotNil(t, open, "Open finds a request where the profile has none")
			require.Equal(t, *open, normalizeResetRequest(r), "Open reads the profile's open request")
		}
	}
	return open
}

// seedRequest stores req through the profile of its user, creating an empty profile first
// when the user has none. A request that is not PENDING is stored decided.
func seedRequest(t *testing.T, st ProfileStores, req ports.ResetRequest) {
	t.Helper()
	ctx := context.Background()
	if err := st.Profiles.Create(ctx, ports.ProfileRecord{UserID: req.UserID}); err != nil {
		require.ErrorIs(t, err, ports.ErrProfileExists)
	}
	_, err := st.Profiles.Update(ctx, req.UserID, func(r *ports.ProfileRecord) error {
		r.OpenResetRequest = &req
		return nil
	})
	require.NoError(t, err)
}

// RunProfileStore runs the conformance suite of ports.ProfileStore: the profile record, its
// open reset request and its audit events, written together or not at all. newStores must
// return the empty stores of one adapter (all three over the same data); it is called once
// per case of profileStoreCases (see CaseNames). With f.ResetRequestOpen, the cases check
// that the Open of ResetRequests reads the profile's open request.
func RunProfileStore(t *testing.T, f Features, newStores func(t *testing.T) ProfileStores) {
	runSuite(t, f, newStores, profileStoreCases)
}

// profileStoreCases are the cases of RunProfileStore.
var profileStoreCases = []suiteCase[ProfileStores]{
	errorsCase(profileStoreErrorCases),
	{name: "CreateGetRoundTrips", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		rec := sampleProfileRecord("u1")
		require.NoError(t, s.Create(ctx, rec))
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, rec, got)
		require.Nil(t, got.OpenResetRequest)

		empty := ports.ProfileRecord{UserID: "u2"}
		require.NoError(t, s.Create(ctx, empty))
		got, err = s.Get(ctx, "u2")
		require.NoError(t, err)
		requireSameProfile(t, empty, got, "a record with nothing set round-trips too")
	}},
	{name: "CreateCarriesRequestAndAudit", run: func(t *testing.T, st ProfileStores, f Features) {
		ctx := context.Background()
		rec := sampleProfileRecord("u1")
		open := resetRequest(resetID1, "someone-else", "org-1", ports.ResetRequestPending, base)
		rec.OpenResetRequest = &open
		e1, e2 := auditEvent("e1", "u1", "contact.email"), auditEvent(resetID2, "u1")
		audit(&rec, e1, e2)
		require.NoError(t, st.Profiles.Create(ctx, rec))

		want := sampleProfileRecord("u1")
		open.UserID = "u1"
		want.OpenResetRequest = &open
		got, err := st.Profiles.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, want, got, "the request is the profile's user's; the events are not read back")
		require.Equal(t, &open, openRequest(t, st, f, "u1"))
		require.Equal(t, []ports.ProfileAuditEvent{e1, e2}, events(t, st, ""), "in order, every field read back (ids that are UUIDs or not)")
	}},
	{name: "CreateExistingFails", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		rec := sampleProfileRecord("u1")
		require.NoError(t, s.Create(ctx, rec))
		other := sampleProfileRecord("u1")
		other.Profile.Contact.Email = "other@example.com"
		open := resetRequest(resetID1, "u1", "", ports.ResetRequestPending, base)
		other.OpenResetRequest = &open
		audit(&other, auditEvent("e1", "u1"))
		require.ErrorIs(t, s.Create(ctx, other), ports.ErrProfileExists)
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, rec, got, "the first profile is kept")
		_, err = st.ResetRequests.Get(ctx, resetID1)
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound, "the refused create stored no request")
		require.Empty(t, events(t, st, ""), "and no event")
	}},
	{name: "CreateWithTakenRequestIDFails", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		seedRequest(t, st, decided(resetRequest(resetID1, "u1", "", ports.ResetRequestPending, base), ports.ResetRequestDeclined, "op"))
		rec := sampleProfileRecord("u2")
		open := resetRequest(resetID1, "u2", "", ports.ResetRequestPending, base)
		rec.OpenResetRequest = &open
		audit(&rec, auditEvent("e1", "u2"))
		require.ErrorIs(t, st.Profiles.Create(ctx, rec), ports.ErrResetRequestExists)
		_, err := st.Profiles.Get(ctx, "u2")
		require.ErrorIs(t, err, ports.ErrProfileNotFound, "nothing was stored")
		require.Empty(t, events(t, st, "u2"))
		stored, err := st.ResetRequests.Get(ctx, resetID1)
		require.NoError(t, err)
		require.Equal(t, "u1", stored.UserID)
	}},
	{name: "MissingIsNotFound", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		_, err := s.Get(ctx, "nobody")
		require.ErrorIs(t, err, ports.ErrProfileNotFound)
		called := false
		_, err = s.Update(ctx, "nobody", func(*ports.ProfileRecord) error { called = true; return nil })
		require.ErrorIs(t, err, ports.ErrProfileNotFound)
		require.False(t, called, "fn is not called for a missing profile")
	}},
	{name: "VersionGrowsByOnePerChange", run: func(t *testing.T, stores ProfileStores, _ Features) {
		ctx := context.Background()
		s := stores.Profiles
		rec := sampleProfileRecord("u1")
		rec.Version = 41 // ignored: the store counts
		rec.Outbox = []ports.LifecycleEvent{ports.NewLifecycleEvent("profile.test", "profile", "u1", base)}
		require.NoError(t, s.Create(ctx, rec))
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		require.EqualValues(t, 1, got.Version, "created: version 1")
		for want := int64(2); want <= 3; want++ {
			out, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
				require.Equal(t, want-1, r.Version, "fn sees the stored version")
				r.Version = 99 // ignored
				r.Outbox = append(r.Outbox, ports.NewLifecycleEvent("profile.test", "profile", "u1", base))
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, want, out.Version)
		}
		_, err = s.Update(ctx, "u1", func(*ports.ProfileRecord) error { return errors.New("refused") })
		require.Error(t, err)
		got, err = s.Get(ctx, "u1")
		require.NoError(t, err)
		require.EqualValues(t, 3, got.Version, "a refused update counts nothing")
		if stores.Outbox != nil {
			es, err := stores.Outbox.Claim(ctx, base.Add(time.Hour), time.Minute, 10)
			require.NoError(t, err)
			var versions []int64
			for _, e := range es {
				versions = append(versions, e.Event.AggregateVersion)
			}
			require.Equal(t, []int64{1, 2, 3}, versions, "the events carry the version of their write")
		}
	}},
	{name: "UpdateWritesAndReturns", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		want := sampleProfileRecord("u1")
		want.Profile.Status = ports.IdentificationNone
		want.Documents[0].Status = ports.DocumentOutdated
		want.MandatoryFields = []string{"person.namePlain.first"}
		want.PendingFields = []string{"person.namePlain.first"}
		want.Profile.Contact.SocialMedias = nil
		want.UpdatedAt = base
		got, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			requireSameProfile(t, sampleProfileRecord("u1"), *r, "fn sees the stored record")
			r.Profile.Status = ports.IdentificationNone
			r.Documents[0].Status = ports.DocumentOutdated
			r.MandatoryFields = []string{"person.namePlain.first"}
			r.PendingFields = []string{"person.namePlain.first"}
			r.Profile.Contact.SocialMedias = nil
			r.UpdatedAt = base
			return nil
		})
		require.NoError(t, err)
		requireSameProfile(t, want, got, "Update returns the stored record")
		stored, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, want, stored)
	}},
	{name: "OpenResetRequestLoadedAndWritten", run: func(t *testing.T, st ProfileStores, f Features) {
		ctx := context.Background()
		s := st.Profiles
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u2")))

		open := resetRequest(resetID1, "u1", "org-1", ports.ResetRequestPending, base)
		got, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			require.Nil(t, r.OpenResetRequest, "no request is open yet")
			created := open
			created.UserID = "u2" // the store makes it the profile's user's
			r.OpenResetRequest = &created
			return nil
		})
		require.NoError(t, err)
		want := sampleProfileRecord("u1")
		want.OpenResetRequest = &open
		requireSameProfile(t, want, got, "Update returns the new open request")
		stored, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, want, stored, "Get loads it with the profile")
		require.Equal(t, &open, openRequest(t, st, f, "u1"))
		require.Nil(t, openRequest(t, st, f, "u2"))

		open.Description = "edited"
		got, err = s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			require.NotNil(t, r.OpenResetRequest, "fn sees the open request")
			require.Equal(t, resetID1, r.OpenResetRequest.ID)
			r.OpenResetRequest.Description = "edited"
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, open, normalizeResetRequest(*got.OpenResetRequest), "an open request is changed in place")
		require.Equal(t, &open, openRequest(t, st, f, "u1"))

		got, err = s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			r.OpenResetRequest.Status, r.OpenResetRequest.DecidedBy = ports.ResetRequestApproved, "op"
			r.OpenResetRequest.DecidedAt = base.Add(time.Minute)
			return nil
		})
		require.NoError(t, err)
		require.Nil(t, got.OpenResetRequest, "a decided request is no longer open")
		stored, err = s.Get(ctx, "u1")
		require.NoError(t, err)
		require.Nil(t, stored.OpenResetRequest)
		require.Nil(t, openRequest(t, st, f, "u1"))
		done, err := st.ResetRequests.Get(ctx, resetID1)
		require.NoError(t, err)
		require.Equal(t, decided(open, ports.ResetRequestApproved, "op"), normalizeResetRequest(done), "it is stored decided")

		_, err = s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			require.Nil(t, r.OpenResetRequest, "fn is not given a decided request")
			next := resetRequest(resetID2, "u1", "org-1", ports.ResetRequestPending, base.Add(time.Hour))
			r.OpenResetRequest = &next
			return nil
		})
		require.NoError(t, err, "a decided request does not count against a new one")
		require.Equal(t, resetID2, openRequest(t, st, f, "u1").ID)
		_, total, err := st.ResetRequests.List(ctx, ports.ResetRequestQuery{Limit: 10})
		require.NoError(t, err)
		require.Equal(t, 2, total)
	}},
	{name: "OpenRequestIsNeverDroppedOrReplaced", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		open := resetRequest(resetID1, "u1", "org-1", ports.ResetRequestPending, base)
		seedRequest(t, st, open)
		for name, edit := range map[string]func(*ports.ProfileRecord){
			"dropped": func(r *ports.ProfileRecord) { r.OpenResetRequest = nil },
			"replaced": func(r *ports.ProfileRecord) {
				other := resetRequest(resetID2, "u1", "", ports.ResetRequestPending, base)
				r.OpenResetRequest = &other
			},
			"replaced by a decided one": func(r *ports.ProfileRecord) {
				other := decided(resetRequest(resetID2, "u1", "", ports.ResetRequestPending, base), ports.ResetRequestDeclined, "op")
				r.OpenResetRequest = &other
			},
		} {
			_, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
				r.ResetBy = "changed"
				audit(r, auditEvent("e1", "u1"))
				edit(r)
				return nil
			})
			require.ErrorIs(t, err, ports.ErrResetRequestOpen, name)
			got, err := s.Get(ctx, "u1")
			require.NoError(t, err)
			want := sampleProfileRecord("u1")
			want.OpenResetRequest = &open
			requireSameProfile(t, want, got, "%s: nothing was written", name)
			_, err = st.ResetRequests.Get(ctx, resetID2)
			require.ErrorIs(t, err, ports.ErrResetRequestNotFound, name)
			require.Empty(t, events(t, st, ""), name)
		}
	}},
	{name: "TakenRequestIDWritesNothing", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		seedRequest(t, st, decided(resetRequest(resetID1, "u1", "", ports.ResetRequestPending, base), ports.ResetRequestDeclined, "op"))
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u2")))
		_, err := s.Update(ctx, "u2", func(r *ports.ProfileRecord) error {
			r.Profile.Status = ports.IdentificationClosed
			audit(r, auditEvent("e1", "u2"))
			taken := resetRequest(resetID1, "u2", "", ports.ResetRequestPending, base)
			r.OpenResetRequest = &taken
			return nil
		})
		require.ErrorIs(t, err, ports.ErrResetRequestExists)
		got, err := s.Get(ctx, "u2")
		require.NoError(t, err)
		requireSameProfile(t, sampleProfileRecord("u2"), got, "the profile was not written")
		require.Empty(t, events(t, st, "u2"), "nor the event")
		stored, err := st.ResetRequests.Get(ctx, resetID1)
		require.NoError(t, err)
		require.Equal(t, "u1", stored.UserID, "nor the request")
		require.Equal(t, ports.ResetRequestDeclined, stored.Status)
	}},
	{name: "AuditAppendedInOrderNeverReadBack", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u2")))
		e1, e2, e3 := auditEvent("e1", "u1", "contact.email"), auditEvent("e2", "u1"), auditEvent("e3", "u1", "address.city", "person.namePlain.first")
		e2.Action, e2.From, e2.To = ports.AuditIdentificationSubmitted, ports.IdentificationNone, ports.IdentificationPending
		got, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			require.Empty(t, r.Outbox, "fn starts with no events")
			audit(r, e1, e2, e3)
			return nil
		})
		require.NoError(t, err)
		require.Empty(t, got.Outbox, "Update returns no events")
		e4 := auditEvent("e4", "u2")
		_, err = s.Update(ctx, "u2", func(r *ports.ProfileRecord) error { audit(r, e4); return nil })
		require.NoError(t, err)
		_, err = s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			require.Empty(t, r.Outbox, "nor does the next fn see any")
			return nil
		})
		require.NoError(t, err)
		stored, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		require.Empty(t, stored.Outbox, "nor Get")

		require.Equal(t, []ports.ProfileAuditEvent{e1, e2, e3}, events(t, st, "u1"), "in order")
		require.Equal(t, []ports.ProfileAuditEvent{e1, e2, e3, e4}, events(t, st, ""))
	}},
	{name: "UpdateErrorWritesNothing", run: func(t *testing.T, st ProfileStores, f Features) {
		ctx := context.Background()
		s := st.Profiles
		rec := sampleProfileRecord("u1")
		require.NoError(t, s.Create(ctx, rec))
		open := resetRequest(resetID1, "u1", "org-1", ports.ResetRequestPending, base)
		seedRequest(t, st, open)
		_, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			r.Profile.Status = ports.IdentificationClosed
			r.Documents = nil
			r.Profile.Additional["x"] = "y"
			r.OpenResetRequest.Status, r.OpenResetRequest.DecidedBy = ports.ResetRequestApproved, "op"
			audit(r, auditEvent("e1", "u1"))
			return errStop
		})
		require.ErrorIs(t, err, errStop, "fn's error comes back as it is")
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		rec.OpenResetRequest = &open
		requireSameProfile(t, rec, got, "nothing was written")
		require.Equal(t, &open, openRequest(t, st, f, "u1"), "the request is still open")
		require.Empty(t, events(t, st, ""), "no event was appended")
	}},
	{name: "UpdateKeepsUserID", run: func(t *testing.T, st ProfileStores, f Features) {
		ctx := context.Background()
		s := st.Profiles
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		got, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			r.UserID = "u2"
			open := resetRequest(resetID1, "u2", "", ports.ResetRequestPending, base)
			r.OpenResetRequest = &open
			audit(r, auditEvent("e1", "u1"))
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, "u1", got.UserID)
		require.Equal(t, "u1", got.OpenResetRequest.UserID)
		_, err = s.Get(ctx, "u2")
		require.ErrorIs(t, err, ports.ErrProfileNotFound)
		_, err = s.Get(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, resetID1, openRequest(t, st, f, "u1").ID)
		require.Nil(t, openRequest(t, st, f, "u2"))
		require.Len(t, events(t, st, "u1"), 1)
		require.Empty(t, events(t, st, "u2"))
	}},
	{name: "CopiesInAndOut", run: func(t *testing.T, st ProfileStores, f Features) {
		ctx := context.Background()
		s := st.Profiles
		rec := sampleProfileRecord("u1")
		open := resetRequest(resetID1, "u1", "org-1", ports.ResetRequestPending, base)
		rec.OpenResetRequest = &open
		audit(&rec, auditEvent("e1", "u1", "contact.email"))
		require.NoError(t, s.Create(ctx, rec))
		rec.Documents[0].Status = ports.DocumentDeclined
		rec.MandatoryFields[0] = "changed"
		rec.Profile.Contact.SocialMedias[0].ID = "changed"
		rec.Profile.Additional["source"] = "changed"
		rec.OpenResetRequest.Description = "changed"
		rec.Outbox[0].Data["fields"] = "changed"

		want := sampleProfileRecord("u1")
		wantOpen := resetRequest(resetID1, "u1", "org-1", ports.ResetRequestPending, base)
		want.OpenResetRequest = &wantOpen
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, want, got, "changing what was passed to Create changes nothing")
		got.Documents[0].Status = ports.DocumentDeclined
		got.PendingFields[0] = "changed"
		got.Profile.Additional["source"] = "changed"
		got.OpenResetRequest.Description = "changed"

		var kept *ports.ProfileRecord
		var keptOpen *ports.ResetRequest
		keptFields := []string{"address.city"}
		updated, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			kept, keptOpen = r, r.OpenResetRequest
			ev := auditEvent("e2", "u1")
			ev.Fields = keptFields
			audit(r, ev)
			return nil
		})
		require.NoError(t, err)
		kept.Documents[1].Status = ports.DocumentDeclined
		kept.Profile.Contact.SocialMedias[0].ID = "changed"
		keptOpen.Description = "changed"
		keptFields[0] = "changed"
		updated.MandatoryFields[1] = "changed"
		updated.Profile.Additional["source"] = "changed"
		updated.OpenResetRequest.Description = "changed"

		got, err = s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, want, got, "no returned value aliases stored state")
		require.Equal(t, &wantOpen, openRequest(t, st, f, "u1"))
		evs := events(t, st, "u1")
		require.Equal(t, []string{"contact.email"}, evs[0].Fields)
		require.Equal(t, []string{"address.city"}, evs[1].Fields)
	}},
	{name: "ConcurrentUpdatesSerialize", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		require.NoError(t, s.Create(ctx, ports.ProfileRecord{UserID: "u1"}))
		require.NoError(t, s.Create(ctx, ports.ProfileRecord{UserID: "u2"}))
		const n = 50
		errs := make([]error, 2*n)
		concurrent.Run(2*n, func(i int) {
			user := fmt.Sprintf("u%d", i%2+1)
			_, errs[i] = s.Update(ctx, user, func(r *ports.ProfileRecord) error {
				r.Documents = append(r.Documents, ports.ProfileDocument{ID: fmt.Sprint(i)})
				audit(r, auditEvent(fmt.Sprint(i), user))
				return nil
			})
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		for _, user := range []string{"u1", "u2"} {
			got, err := s.Get(ctx, user)
			require.NoError(t, err)
			require.Len(t, got.Documents, n, "no update of %s was lost", user)
			evs := events(t, st, user)
			require.Len(t, evs, n, "nor any event")
			for i, ev := range evs {
				require.Equal(t, got.Documents[i].ID, ev.ID, "events are in the order of the updates")
			}
		}
	}},
	{name: "ConcurrentRequestCreationsOneOpen", run: func(t *testing.T, st ProfileStores, f Features) {
		ctx := context.Background()
		require.NoError(t, st.Profiles.Create(ctx, ports.ProfileRecord{UserID: "u1"}))
		const n = 50
		errs := make([]error, n)
		concurrent.Run(n, func(i int) {
			// fn does not check for an open request: the store refuses a second one.
			_, errs[i] = st.Profiles.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
				req := resetRequest(fmt.Sprintf("00000000-0000-0000-0001-%012d", i), "u1", "", ports.ResetRequestPending, base)
				r.OpenResetRequest = &req
				audit(r, auditEvent(req.ID, "u1"))
				return nil
			})
		})
		requireOneSuccess(t, errs, ports.ErrResetRequestOpen, "exactly one open request per user under concurrent creations")
		_, total, err := st.ResetRequests.List(ctx, ports.ResetRequestQuery{Limit: n})
		require.NoError(t, err)
		require.Equal(t, 1, total)
		evs := events(t, st, "u1")
		require.Len(t, evs, 1, "only the winner's event")
		require.Equal(t, openRequest(t, st, f, "u1").ID, evs[0].ID)
	}},
	{name: "ConcurrentDecisionsOnce", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		seedRequest(t, st, resetRequest(resetID1, "u1", "", ports.ResetRequestPending, base))
		const n = 50
		errs := make([]error, n)
		concurrent.Run(n, func(i int) {
			_, errs[i] = st.Profiles.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
				if r.OpenResetRequest == nil {
					return errStop
				}
				r.OpenResetRequest.Status, r.OpenResetRequest.DecidedBy = ports.ResetRequestApproved, fmt.Sprint(i)
				audit(r, auditEvent(fmt.Sprint(i), "u1"))
				return nil
			})
		})
		requireOneSuccess(t, errs, errStop, "an open request is decided once")
		done, err := st.ResetRequests.Get(ctx, resetID1)
		require.NoError(t, err)
		evs := events(t, st, "u1")
		require.Len(t, evs, 1)
		require.Equal(t, done.DecidedBy, evs[0].ID, "the event is the winner's")
	}},
	{name: "GetSeesWholeUpdates", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		const users = 4
		for i := range users {
			seedRequest(t, st, resetRequest(fmt.Sprintf("00000000-0000-0000-0002-%012d", i), fmt.Sprintf("u%d", i), "", ports.ResetRequestPending, base))
		}
		var stop atomic.Bool
		var readers sync.WaitGroup
		bad := make(chan string, 4)
		for range 4 {
			readers.Go(func() {
				for i := 0; !stop.Load(); i++ {
					rec, err := st.Profiles.Get(ctx, fmt.Sprintf("u%d", i%users))
					if err != nil {
						bad <- err.Error()
						return
					}
					if (rec.ResetBy != "") != (rec.OpenResetRequest == nil) {
						bad <- fmt.Sprintf("%s: reset by %q with open request %v", rec.UserID, rec.ResetBy, rec.OpenResetRequest)
						return
					}
				}
			})
		}
		// Each user's request is approved with a reset, then a new one is opened as the
		// reset is forgotten, a few times over: a profile is reset exactly when it has no
		// open request, in every committed state.
		const rounds = 20
		errs := make([]error, users)
		concurrent.Run(users, func(i int) {
			user := fmt.Sprintf("u%d", i)
			for round := range rounds {
				_, err := st.Profiles.Update(ctx, user, func(r *ports.ProfileRecord) error {
					r.ResetBy = "op"
					r.OpenResetRequest.Status = ports.ResetRequestApproved
					return nil
				})
				if err == nil {
					_, err = st.Profiles.Update(ctx, user, func(r *ports.ProfileRecord) error {
						r.ResetBy = ""
						next := resetRequest(fmt.Sprintf("00000000-0000-0000-%04d-%012d", round+3, i), user, "", ports.ResetRequestPending, base)
						r.OpenResetRequest = &next
						return nil
					})
				}
				if err != nil {
					errs[i] = err
					return
				}
			}
		})
		stop.Store(true)
		readers.Wait()
		close(bad)
		for msg := range bad {
			t.Fatal("Get saw half an update:", msg)
		}
		for _, err := range errs {
			require.NoError(t, err)
		}
	}},
	{name: "ConcurrentCreateOnce", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		const n = 50
		errs := make([]error, n)
		concurrent.Run(n, func(i int) { errs[i] = s.Create(ctx, ports.ProfileRecord{UserID: "u1", ResetBy: fmt.Sprint(i)}) })
		requireOneSuccess(t, errs, ports.ErrProfileExists)
	}},
	{name: "CancelledContext", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		s := st.Profiles
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, s.Create(cctx, sampleProfileRecord("u2")), context.Canceled)
		_, err := s.Get(cctx, "u1")
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Update(cctx, "u1", func(r *ports.ProfileRecord) error {
			r.ResetBy = "x"
			open := resetRequest(resetID1, "u1", "", ports.ResetRequestPending, base)
			r.OpenResetRequest = &open
			audit(r, auditEvent("e1", "u1"))
			return nil
		})
		require.ErrorIs(t, err, context.Canceled)
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, sampleProfileRecord("u1"), got)
		require.Empty(t, events(t, st, ""))
	}},
}

// RunResetRequestStore runs the conformance suite of ports.ResetRequestStore, which reads
// the requests the ProfileStore of the same adapter writes. newStores must return the empty
// stores of one adapter; it is called once per case of resetRequestStoreCases (see
// CaseNames). f.ResetRequestOpen adds the cases of ResetRequestOpener.
func RunResetRequestStore(t *testing.T, f Features, newStores func(t *testing.T) ProfileStores) {
	runSuite(t, f, newStores, resetRequestStoreCases)
}

// resetRequestStoreCases are the cases of RunResetRequestStore.
var resetRequestStoreCases = []suiteCase[ProfileStores]{
	{name: "GetRoundTrips", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		req := decided(resetRequest(resetID1, "u1", "org-1", ports.ResetRequestPending, base), ports.ResetRequestApproved, "op")
		seedRequest(t, st, req)
		open := resetRequest(resetID2, "u1", "org-1", ports.ResetRequestPending, base.Add(time.Hour))
		open.Description = ""
		seedRequest(t, st, open)
		for _, want := range []ports.ResetRequest{req, open} {
			got, err := st.ResetRequests.Get(ctx, want.ID)
			require.NoError(t, err)
			require.Equal(t, want, normalizeResetRequest(got))
		}
		_, err := st.ResetRequests.Get(ctx, resetID3)
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound)
	}},
	{name: "OpenIsThePendingOne", needs: featureResetRequestOpen, run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		opener := featureMethod[ResetRequestOpener](t, st.ResetRequests)
		seedRequest(t, st, decided(resetRequest(resetID1, "u1", "", ports.ResetRequestPending, base), ports.ResetRequestDeclined, "op"))
		_, err := opener.Open(ctx, "u1")
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound, "decided requests are not open")
		seedRequest(t, st, resetRequest(resetID2, "u1", "", ports.ResetRequestPending, base))
		seedRequest(t, st, resetRequest(resetID3, "u2", "", ports.ResetRequestPending, base))
		open, err := opener.Open(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, resetID2, open.ID)
		open, err = opener.Open(ctx, "u2")
		require.NoError(t, err)
		require.Equal(t, resetID3, open.ID, "another user has their own")
		_, err = opener.Open(ctx, "u3")
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound)
	}},
	{name: "ListFiltersSortsAndPages", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		// Five requests; b and c share CreatedAt, so ties fall back to the id.
		reqs := []ports.ResetRequest{
			resetRequest("a", "u1", "org-2", ports.ResetRequestPending, base.Add(4*time.Minute)),
			resetRequest("c", "u2", "org-1", ports.ResetRequestApproved, base.Add(time.Minute)),
			resetRequest("b", "u3", "org-1", ports.ResetRequestPending, base.Add(time.Minute)),
			resetRequest("d", "u4", "org-1", ports.ResetRequestDeclined, base),
			resetRequest("e", "u5", "org-2", ports.ResetRequestApproved, base.Add(3*time.Minute)),
		}
		for _, r := range reqs {
			seedRequest(t, st, r)
		}
		cases := []struct {
			name  string
			q     ports.ResetRequestQuery
			ids   []string
			total int
		}{
			{"default order is CreatedAt then id", ports.ResetRequestQuery{Limit: 10}, []string{"d", "b", "c", "e", "a"}, 5},
			{"status filter", ports.ResetRequestQuery{Status: ports.ResetRequestPending, Limit: 10}, []string{"b", "a"}, 2},
			{"organisation filter", ports.ResetRequestQuery{OrganizationID: "org-2", Limit: 10}, []string{"e", "a"}, 2},
			{"both filters", ports.ResetRequestQuery{Status: ports.ResetRequestApproved, OrganizationID: "org-1", Limit: 10}, []string{"c"}, 1},
			{"no match", ports.ResetRequestQuery{OrganizationID: "org-9", Limit: 10}, []string{}, 0},
			{"first page", ports.ResetRequestQuery{Limit: 2}, []string{"d", "b"}, 5},
			{"middle page", ports.ResetRequestQuery{Offset: 2, Limit: 2}, []string{"c", "e"}, 5},
			{"last partial page", ports.ResetRequestQuery{Offset: 4, Limit: 2}, []string{"a"}, 5},
			{"past the end", ports.ResetRequestQuery{Offset: 6, Limit: 2}, []string{}, 5},
			{"just past the end", ports.ResetRequestQuery{Offset: 5, Limit: 2}, []string{}, 5},
			{"no limit, only the total", ports.ResetRequestQuery{Limit: 0}, []string{}, 5},
			{"descending", ports.ResetRequestQuery{Order: []ports.ResetRequestOrder{{Field: ports.SortResetByCreatedAt, Descending: true}}, Limit: 10}, []string{"a", "e", "b", "c", "d"}, 5},
			{"by user id", ports.ResetRequestQuery{Order: []ports.ResetRequestOrder{{Field: ports.SortResetByUserID, Descending: true}}, Limit: 10}, []string{"e", "d", "b", "c", "a"}, 5},
			{"two keys", ports.ResetRequestQuery{Order: []ports.ResetRequestOrder{
				{Field: ports.SortResetByOrganization}, {Field: ports.SortResetByStatus, Descending: true},
			}, Limit: 10}, []string{"b", "d", "c", "a", "e"}, 5},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := st.ResetRequests.List(ctx, tc.q)
				require.NoError(t, err)
				require.Equal(t, tc.total, total)
				require.Equal(t, tc.ids, resetRequestIDs(got))
			})
		}
	}},
	{name: "CancelledContext", run: func(t *testing.T, st ProfileStores, f Features) {
		ctx := context.Background()
		seedRequest(t, st, resetRequest(resetID1, "u1", "", ports.ResetRequestPending, base))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := st.ResetRequests.Get(cctx, resetID1)
		require.ErrorIs(t, err, context.Canceled)
		if o, ok := declared[ResetRequestOpener](t, st.ResetRequests, f.ResetRequestOpen); ok {
			_, err = o.Open(cctx, "u1")
			require.ErrorIs(t, err, context.Canceled)
		}
		_, _, err = st.ResetRequests.List(cctx, ports.ResetRequestQuery{Limit: 1})
		require.ErrorIs(t, err, context.Canceled)
	}},
}

// RunProfileAuditLog runs the conformance suite of ports.ProfileAuditLog, which reads the
// events the ProfileStore of the same adapter appends, and takes a host's own events
// through Append. newStores must return the empty stores of one adapter; it is called once
// per case of profileAuditLogCases (see CaseNames).
func RunProfileAuditLog(t *testing.T, f Features, newStores func(t *testing.T) ProfileStores) {
	runSuite(t, f, newStores, profileAuditLogCases)
}

// profileAuditLogCases are the cases of RunProfileAuditLog.
var profileAuditLogCases = []suiteCase[ProfileStores]{
	{name: "AppendedInOrderAndByUser", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		require.Empty(t, events(t, st, ""))
		require.NoError(t, st.Profiles.Create(ctx, ports.ProfileRecord{UserID: "u1"}))
		e1, e2, e3, e4 := auditEvent("1", "u1", "contact.email"), auditEvent("2", "u2"), auditEvent("3", "u1", "address.city", "person.namePlain.first"), auditEvent("4", "u1")
		_, err := st.Profiles.Update(ctx, "u1", func(r *ports.ProfileRecord) error { audit(r, e1); return nil })
		require.NoError(t, err)
		require.NoError(t, st.Audit.Append(ctx, e2), "a host's own event")
		_, err = st.Profiles.Update(ctx, "u1", func(r *ports.ProfileRecord) error { audit(r, e3, e4); return nil })
		require.NoError(t, err)
		require.Equal(t, []ports.ProfileAuditEvent{e1, e2, e3, e4}, events(t, st, ""))
		require.Equal(t, []ports.ProfileAuditEvent{e1, e3, e4}, events(t, st, "u1"))
		require.Equal(t, []ports.ProfileAuditEvent{e2}, events(t, st, "u2"))
		require.Empty(t, events(t, st, "u9"))
	}},
	{name: "CopiesInAndOut", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		e := auditEvent("1", "u1", "contact.email")
		require.NoError(t, st.Audit.Append(ctx, e))
		e.Fields[0] = "changed"
		evs, err := st.Audit.Events(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, []string{"contact.email"}, evs[0].Fields)
		evs[0].Fields[0] = "changed"
		evs, err = st.Audit.Events(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, []string{"contact.email"}, evs[0].Fields)
	}},
	{name: "ConcurrentAppendsAllKept", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		require.NoError(t, st.Profiles.Create(ctx, ports.ProfileRecord{UserID: "u1"}))
		const n = 50
		errs := make([]error, n)
		concurrent.Run(n, func(i int) {
			ev := auditEvent(fmt.Sprint(i), "u1")
			if i%2 == 0 {
				errs[i] = st.Audit.Append(ctx, ev)
				return
			}
			_, errs[i] = st.Profiles.Update(ctx, "u1", func(r *ports.ProfileRecord) error { audit(r, ev); return nil })
		})
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, events(t, st, "u1"), n)
	}},
	{name: "CommasInFieldsRefused", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		err := st.Audit.Append(ctx, auditEvent("1", "u1", "contact.email", "a,b"))
		require.Equal(t, verifykit.KindInvalidInput, verifykit.KindOf(err))
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve)
		require.Len(t, ve.Invalid, 1)
		require.Equal(t, "Fields[1]", ve.Invalid[0].Entry)
		require.Empty(t, events(t, st, ""), "nothing stored")
	}},
	{name: "TheEventsAreTheLog", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		if st.Outbox == nil {
			t.Skip("no outbox given")
		}
		rec := ports.ProfileRecord{UserID: "u1", OrganizationID: "org-1"}
		other := ports.NewLifecycleEvent("other.thing", "other", "u1", base)
		audit(&rec, auditEvent(uuid.NewString(), "u1", "contact.email"))
		rec.Outbox = append(rec.Outbox, other)
		require.NoError(t, st.Profiles.Create(ctx, rec))
		e2 := auditEvent("2", "u1")
		require.NoError(t, st.Audit.Append(ctx, e2), "a host's own event goes to the outbox too")
		logged := events(t, st, "u1")
		require.Len(t, logged, 2, "events of other aggregates are not audit events")

		now := base.Add(time.Hour)
		claimed, err := st.Outbox.Claim(ctx, now, time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, claimed, 3)
		var fromOutbox []ports.ProfileAuditEvent
		for _, e := range claimed {
			if a, ok := ports.ProfileAuditEventOf(e.Event); ok {
				fromOutbox = append(fromOutbox, a)
				require.Equal(t, ports.AggregateProfile, e.Event.AggregateType)
				require.Equal(t, "u1", e.Event.AggregateID)
			}
			require.NoError(t, st.Outbox.Ack(ctx, e, now))
		}
		require.Equal(t, logged, normalizeEvents(fromOutbox), "the log reads the outbox's profile events")
		require.Equal(t, "org-1", claimed[0].Event.OrgID, "in the profile's organisation")

		n, err := st.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: now.Add(time.Hour), KeepAggregateTypes: ports.AuditAggregateTypes})
		require.NoError(t, err)
		require.Equal(t, 1, n, "only the other aggregate's event goes")
		require.Equal(t, logged, events(t, st, "u1"), "the audit trail is kept")
		n, err = st.Outbox.Purge(ctx, ports.PurgeRequest{DeliveredBefore: now.Add(time.Hour)})
		require.NoError(t, err)
		require.Equal(t, 2, n)
		require.Empty(t, events(t, st, "u1"), "a purge that keeps nothing drops the trail: there is no other copy")
	}},
	{name: "CancelledContext", run: func(t *testing.T, st ProfileStores, _ Features) {
		ctx := context.Background()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, st.Audit.Append(cctx, auditEvent("1", "u1")), context.Canceled)
		_, err := st.Audit.Events(cctx, "")
		require.ErrorIs(t, err, context.Canceled)
		require.Empty(t, events(t, st, ""))
	}},
}

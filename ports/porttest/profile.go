package porttest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
	return r
}

func requireSameProfile(t *testing.T, want, got ports.ProfileRecord, msgAndArgs ...any) {
	t.Helper()
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

// errStop is what the suites' update functions return to abort an update.
var errStop = errors.New("porttest: stop")

// RunProfileStore runs the conformance suite of ports.ProfileStore. newStore must return an
// empty store; it is called once per sub-test.
func RunProfileStore(t *testing.T, newStore func(t *testing.T) ports.ProfileStore) {
	ctx := context.Background()

	t.Run("CreateGetRoundTrips", func(t *testing.T) {
		s := newStore(t)
		rec := sampleProfileRecord("u1")
		require.NoError(t, s.Create(ctx, rec))
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, rec, got)

		empty := ports.ProfileRecord{UserID: "u2"}
		require.NoError(t, s.Create(ctx, empty))
		got, err = s.Get(ctx, "u2")
		require.NoError(t, err)
		requireSameProfile(t, empty, got, "a record with nothing set round-trips too")
	})

	t.Run("CreateExistingFails", func(t *testing.T) {
		s := newStore(t)
		rec := sampleProfileRecord("u1")
		require.NoError(t, s.Create(ctx, rec))
		other := sampleProfileRecord("u1")
		other.Profile.Contact.Email = "other@example.com"
		require.ErrorIs(t, s.Create(ctx, other), ports.ErrProfileExists)
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, rec, got, "the first profile is kept")
	})

	t.Run("MissingIsNotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Get(ctx, "nobody")
		require.ErrorIs(t, err, ports.ErrProfileNotFound)
		called := false
		_, err = s.Update(ctx, "nobody", func(*ports.ProfileRecord) error { called = true; return nil })
		require.ErrorIs(t, err, ports.ErrProfileNotFound)
		require.False(t, called, "fn is not called for a missing profile")
	})

	t.Run("UpdateWritesAndReturns", func(t *testing.T) {
		s := newStore(t)
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
	})

	t.Run("UpdateErrorWritesNothing", func(t *testing.T) {
		s := newStore(t)
		rec := sampleProfileRecord("u1")
		require.NoError(t, s.Create(ctx, rec))
		_, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error {
			r.Profile.Status = ports.IdentificationClosed
			r.Documents = nil
			r.Profile.Additional["x"] = "y"
			return errStop
		})
		require.ErrorIs(t, err, errStop, "fn's error comes back as it is")
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, rec, got, "nothing was written")
	})

	t.Run("UpdateKeepsUserID", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		got, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error { r.UserID = "u2"; return nil })
		require.NoError(t, err)
		require.Equal(t, "u1", got.UserID)
		_, err = s.Get(ctx, "u2")
		require.ErrorIs(t, err, ports.ErrProfileNotFound)
		_, err = s.Get(ctx, "u1")
		require.NoError(t, err)
	})

	t.Run("CopiesInAndOut", func(t *testing.T) {
		s := newStore(t)
		rec := sampleProfileRecord("u1")
		require.NoError(t, s.Create(ctx, rec))
		rec.Documents[0].Status = ports.DocumentDeclined
		rec.MandatoryFields[0] = "changed"
		rec.Profile.Contact.SocialMedias[0].ID = "changed"
		rec.Profile.Additional["source"] = "changed"

		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, sampleProfileRecord("u1"), got, "changing what was passed to Create changes nothing")
		got.Documents[0].Status = ports.DocumentDeclined
		got.PendingFields[0] = "changed"
		got.Profile.Additional["source"] = "changed"

		var kept *ports.ProfileRecord
		updated, err := s.Update(ctx, "u1", func(r *ports.ProfileRecord) error { kept = r; return nil })
		require.NoError(t, err)
		kept.Documents[1].Status = ports.DocumentDeclined
		kept.Profile.Contact.SocialMedias[0].ID = "changed"
		updated.MandatoryFields[1] = "changed"
		updated.Profile.Additional["source"] = "changed"

		got, err = s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, sampleProfileRecord("u1"), got, "no returned value aliases stored state")
	})

	t.Run("ConcurrentUpdatesSerialize", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, ports.ProfileRecord{UserID: "u1"}))
		require.NoError(t, s.Create(ctx, ports.ProfileRecord{UserID: "u2"}))
		const n = 50
		errs := make([]error, 2*n)
		parallel(2*n, func(i int) {
			user := fmt.Sprintf("u%d", i%2+1)
			_, errs[i] = s.Update(ctx, user, func(r *ports.ProfileRecord) error {
				r.Documents = append(r.Documents, ports.ProfileDocument{ID: fmt.Sprint(i)})
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
		}
	})

	t.Run("ConcurrentCreateOnce", func(t *testing.T) {
		s := newStore(t)
		const n = 50
		errs := make([]error, n)
		parallel(n, func(i int) { errs[i] = s.Create(ctx, ports.ProfileRecord{UserID: "u1", ResetBy: fmt.Sprint(i)}) })
		requireOneSuccess(t, errs, ports.ErrProfileExists)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, sampleProfileRecord("u1")))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, s.Create(cctx, sampleProfileRecord("u2")), context.Canceled)
		_, err := s.Get(cctx, "u1")
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Update(cctx, "u1", func(r *ports.ProfileRecord) error { r.ResetBy = "x"; return nil })
		require.ErrorIs(t, err, context.Canceled)
		got, err := s.Get(ctx, "u1")
		require.NoError(t, err)
		requireSameProfile(t, sampleProfileRecord("u1"), got)
	})
}

func resetRequest(id, user, org string, status ports.ResetRequestStatus, created time.Time) ports.ResetRequest {
	return ports.ResetRequest{
		ID: id, UserID: user, OrganizationID: org, Status: status,
		Description: "please reset " + user, InitiatorUserID: user, CreatedAt: created,
	}
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

// RunResetRequestStore runs the conformance suite of ports.ResetRequestStore. newStore must
// return an empty store; it is called once per sub-test.
func RunResetRequestStore(t *testing.T, newStore func(t *testing.T) ports.ResetRequestStore) {
	ctx := context.Background()
	const (
		id1 = "00000000-0000-0000-0000-000000000001"
		id2 = "00000000-0000-0000-0000-000000000002"
		id3 = "00000000-0000-0000-0000-000000000003"
	)

	t.Run("CreateGetRoundTrips", func(t *testing.T) {
		s := newStore(t)
		req := resetRequest(id1, "u1", "org-1", ports.ResetRequestApproved, base)
		req.DecidedBy, req.DecidedAt = "op", base.Add(time.Minute)
		require.NoError(t, s.Create(ctx, req))
		got, err := s.Get(ctx, id1)
		require.NoError(t, err)
		require.Equal(t, req, normalizeResetRequest(got))
		_, err = s.Get(ctx, id2)
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound)
	})

	t.Run("CreateExistingIDFails", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, resetRequest(id1, "u1", "", ports.ResetRequestDeclined, base)))
		require.ErrorIs(t, s.Create(ctx, resetRequest(id1, "u2", "", ports.ResetRequestPending, base)), ports.ErrResetRequestExists)
		_, err := s.Open(ctx, "u2")
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound, "nothing was stored")
	})

	t.Run("OneOpenRequestPerUser", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, resetRequest(id1, "u1", "", ports.ResetRequestPending, base)))
		require.ErrorIs(t, s.Create(ctx, resetRequest(id2, "u1", "", ports.ResetRequestPending, base)), ports.ErrResetRequestOpen)
		_, err := s.Get(ctx, id2)
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound, "the refused request was not stored")
		require.NoError(t, s.Create(ctx, resetRequest(id2, "u1", "", ports.ResetRequestDeclined, base)), "closed requests do not count")
		require.NoError(t, s.Create(ctx, resetRequest(id3, "u2", "", ports.ResetRequestPending, base)), "another user is not affected")

		open, err := s.Open(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, id1, open.ID)
		_, err = s.Open(ctx, "u3")
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound)
	})

	t.Run("ClosingFreesTheUser", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, resetRequest(id1, "u1", "", ports.ResetRequestPending, base)))
		got, err := s.Update(ctx, id1, func(r *ports.ResetRequest) error {
			r.Status, r.DecidedBy, r.DecidedAt = ports.ResetRequestApproved, "op", base.Add(time.Minute)
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, ports.ResetRequestApproved, got.Status)
		require.Equal(t, "op", got.DecidedBy)
		require.True(t, got.DecidedAt.Equal(base.Add(time.Minute)))
		_, err = s.Open(ctx, "u1")
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound)
		require.NoError(t, s.Create(ctx, resetRequest(id2, "u1", "", ports.ResetRequestPending, base)))

		_, err = s.Update(ctx, id1, func(r *ports.ResetRequest) error { r.Status = ports.ResetRequestPending; return nil })
		require.ErrorIs(t, err, ports.ErrResetRequestOpen, "Update cannot make a second open request")
		stored, err := s.Get(ctx, id1)
		require.NoError(t, err)
		require.Equal(t, ports.ResetRequestApproved, stored.Status, "nothing was written")
	})

	t.Run("UpdateErrorWritesNothing", func(t *testing.T) {
		s := newStore(t)
		req := resetRequest(id1, "u1", "org-1", ports.ResetRequestPending, base)
		require.NoError(t, s.Create(ctx, req))
		_, err := s.Update(ctx, id1, func(r *ports.ResetRequest) error {
			r.Status = ports.ResetRequestDeclined
			return errStop
		})
		require.ErrorIs(t, err, errStop)
		got, err := s.Get(ctx, id1)
		require.NoError(t, err)
		require.Equal(t, req, normalizeResetRequest(got))
		_, err = s.Open(ctx, "u1")
		require.NoError(t, err, "the request is still open")

		called := false
		_, err = s.Update(ctx, id2, func(*ports.ResetRequest) error { called = true; return nil })
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound)
		require.False(t, called)
	})

	t.Run("UpdateKeepsIDAndUser", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, resetRequest(id1, "u1", "", ports.ResetRequestPending, base)))
		got, err := s.Update(ctx, id1, func(r *ports.ResetRequest) error {
			r.ID, r.UserID, r.Description = id2, "u2", "changed"
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, id1, got.ID)
		require.Equal(t, "u1", got.UserID)
		require.Equal(t, "changed", got.Description)
		_, err = s.Get(ctx, id2)
		require.ErrorIs(t, err, ports.ErrResetRequestNotFound)
		open, err := s.Open(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, id1, open.ID)
	})

	t.Run("ConcurrentCreatesOneOpen", func(t *testing.T) {
		s := newStore(t)
		const n = 50
		errs := make([]error, n)
		parallel(n, func(i int) {
			errs[i] = s.Create(ctx, resetRequest(fmt.Sprintf("00000000-0000-0000-0001-%012d", i), "u1", "", ports.ResetRequestPending, base))
		})
		requireOneSuccess(t, errs, ports.ErrResetRequestOpen, "exactly one open request per user under concurrent creates")
		_, total, err := s.List(ctx, ports.ResetRequestQuery{Limit: n})
		require.NoError(t, err)
		require.Equal(t, 1, total)
	})

	t.Run("ConcurrentDecisionsOnce", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, resetRequest(id1, "u1", "", ports.ResetRequestPending, base)))
		const n = 50
		errs := make([]error, n)
		parallel(n, func(i int) {
			_, errs[i] = s.Update(ctx, id1, func(r *ports.ResetRequest) error {
				if r.Status != ports.ResetRequestPending {
					return errStop
				}
				r.Status, r.DecidedBy = ports.ResetRequestApproved, fmt.Sprint(i)
				return nil
			})
		})
		requireOneSuccess(t, errs, errStop, "a pending request is decided once")
	})

	t.Run("ListFiltersSortsAndPages", func(t *testing.T) {
		s := newStore(t)
		// Five requests; b and c share CreatedAt, so ties fall back to the id.
		reqs := []ports.ResetRequest{
			resetRequest("a", "u1", "org-2", ports.ResetRequestPending, base.Add(4*time.Minute)),
			resetRequest("c", "u2", "org-1", ports.ResetRequestApproved, base.Add(time.Minute)),
			resetRequest("b", "u3", "org-1", ports.ResetRequestPending, base.Add(time.Minute)),
			resetRequest("d", "u4", "org-1", ports.ResetRequestDeclined, base),
			resetRequest("e", "u5", "org-2", ports.ResetRequestApproved, base.Add(3*time.Minute)),
		}
		for _, r := range reqs {
			require.NoError(t, s.Create(ctx, r))
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
			{"descending", ports.ResetRequestQuery{Order: []ports.ResetRequestOrder{{Field: ports.SortResetByCreatedAt, Descending: true}}, Limit: 10}, []string{"a", "e", "b", "c", "d"}, 5},
			{"by user id", ports.ResetRequestQuery{Order: []ports.ResetRequestOrder{{Field: ports.SortResetByUserID, Descending: true}}, Limit: 10}, []string{"e", "d", "b", "c", "a"}, 5},
			{"two keys", ports.ResetRequestQuery{Order: []ports.ResetRequestOrder{
				{Field: ports.SortResetByOrganization}, {Field: ports.SortResetByStatus, Descending: true},
			}, Limit: 10}, []string{"b", "d", "c", "a", "e"}, 5},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, total, err := s.List(ctx, tc.q)
				require.NoError(t, err)
				require.Equal(t, tc.total, total)
				require.Equal(t, tc.ids, resetRequestIDs(got))
			})
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Create(ctx, resetRequest(id1, "u1", "", ports.ResetRequestPending, base)))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, s.Create(cctx, resetRequest(id2, "u2", "", ports.ResetRequestPending, base)), context.Canceled)
		_, err := s.Get(cctx, id1)
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Open(cctx, "u1")
		require.ErrorIs(t, err, context.Canceled)
		_, err = s.Update(cctx, id1, func(r *ports.ResetRequest) error { r.Status = ports.ResetRequestDeclined; return nil })
		require.ErrorIs(t, err, context.Canceled)
		_, _, err = s.List(cctx, ports.ResetRequestQuery{Limit: 1})
		require.ErrorIs(t, err, context.Canceled)
		got, err := s.Get(ctx, id1)
		require.NoError(t, err)
		require.Equal(t, ports.ResetRequestPending, got.Status)
	})
}

// RunProfileAuditLog runs the conformance suite of ports.ProfileAuditLog. newLog must return
// an empty log; it is called once per sub-test.
func RunProfileAuditLog(t *testing.T, newLog func(t *testing.T) ports.ProfileAuditLog) {
	ctx := context.Background()
	event := func(id, user string, fields ...string) ports.ProfileAuditEvent {
		return ports.ProfileAuditEvent{
			ID: id, Action: ports.AuditIdentificationReset, ActorID: "op", UserID: user, RequestID: "r-" + id,
			Fields: fields, From: ports.IdentificationApproved, To: ports.IdentificationNone, At: base,
		}
	}
	normalize := func(evs []ports.ProfileAuditEvent) []ports.ProfileAuditEvent {
		for i := range evs {
			evs[i].At = evs[i].At.UTC()
			if len(evs[i].Fields) == 0 {
				evs[i].Fields = nil
			}
		}
		return evs
	}

	t.Run("AppendedInOrderAndByUser", func(t *testing.T) {
		l := newLog(t)
		evs, err := l.Events(ctx, "")
		require.NoError(t, err)
		require.Empty(t, evs)
		e1, e2, e3 := event("1", "u1", "contact.email"), event("2", "u2"), event("3", "u1", "address.city", "person.namePlain.first")
		for _, e := range []ports.ProfileAuditEvent{e1, e2, e3} {
			require.NoError(t, l.Append(ctx, e))
		}
		evs, err = l.Events(ctx, "")
		require.NoError(t, err)
		require.Equal(t, []ports.ProfileAuditEvent{e1, e2, e3}, normalize(evs))
		evs, err = l.Events(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, []ports.ProfileAuditEvent{e1, e3}, normalize(evs))
		evs, err = l.Events(ctx, "u9")
		require.NoError(t, err)
		require.Empty(t, evs)
	})

	t.Run("CopiesInAndOut", func(t *testing.T) {
		l := newLog(t)
		e := event("1", "u1", "contact.email")
		require.NoError(t, l.Append(ctx, e))
		e.Fields[0] = "changed"
		evs, err := l.Events(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, []string{"contact.email"}, evs[0].Fields)
		evs[0].Fields[0] = "changed"
		evs, err = l.Events(ctx, "u1")
		require.NoError(t, err)
		require.Equal(t, []string{"contact.email"}, evs[0].Fields)
	})

	t.Run("ConcurrentAppendsAllKept", func(t *testing.T) {
		l := newLog(t)
		const n = 50
		errs := make([]error, n)
		parallel(n, func(i int) { errs[i] = l.Append(ctx, event(fmt.Sprint(i), "u1")) })
		for _, err := range errs {
			require.NoError(t, err)
		}
		evs, err := l.Events(ctx, "u1")
		require.NoError(t, err)
		require.Len(t, evs, n)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		l := newLog(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, l.Append(cctx, event("1", "u1")), context.Canceled)
		_, err := l.Events(cctx, "")
		require.ErrorIs(t, err, context.Canceled)
		evs, err := l.Events(ctx, "")
		require.NoError(t, err)
		require.Empty(t, evs)
	})
}

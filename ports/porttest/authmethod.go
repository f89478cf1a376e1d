package porttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/ports"
)

// errRefused is the error the suites' update functions return to check that nothing is
// written and the error comes back as is.
var errRefused = errors.New("porttest: refused by fn")

func person(id string) ports.PersonRecord {
	return ports.PersonRecord{
		ID:                 id,
		BirthDate:          time.Date(2008, 2, 29, 0, 0, 0, 0, time.UTC),
		Status:             "active",
		IsActive:           true,
		VerificationStatus: "VERIFIED",
		Documents: []ports.PersonDocument{
			{Type: "PASSPORT", Number: "AB123456"},
			{Type: "MARRIAGE_CERTIFICATE", Number: "I-ME-123"},
		},
	}
}

// RunPersonStore runs the conformance suite of ports.PersonStore, a sub-test per case of
// personStoreCases (see CaseNames); f.PersonUpdate adds the cases of PersonUpdater.
// newStore must return an empty store; it is called once per case.
func RunPersonStore(t *testing.T, f Features, newStore func(t *testing.T) SeedablePersonStore) {
	runSuite(t, f, newStore, personStoreCases)
}

// personStoreCases are the cases of RunPersonStore.
var personStoreCases = []suiteCase[SeedablePersonStore]{
	errorsCase(personStoreErrorCases),
	{name: "RoundTrip", run: func(t *testing.T, s SeedablePersonStore, _ Features) {
		ctx := context.Background()
		kyiv, err := time.LoadLocation("Europe/Kyiv")
		require.NoError(t, err)
		p := person("p1")
		// Midnight in Kyiv is the evening before in UTC: the date given is what is kept.
		p.BirthDate = time.Date(2010, 3, 1, 0, 0, 0, 0, kyiv)
		require.NoError(t, s.CreatePerson(ctx, p))
		got, err := s.Person(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC), got.BirthDate.UTC())
		y, m, d := got.BirthDate.Date()
		require.Equal(t, []int{2010, 3, 1}, []int{y, int(m), d})
		got.BirthDate = p.BirthDate
		require.Equal(t, p, got)
	}},
	{name: "NotFound", run: func(t *testing.T, s SeedablePersonStore, f Features) {
		ctx := context.Background()
		_, err := s.Person(ctx, "nobody")
		require.ErrorIs(t, err, ports.ErrPersonNotFound)
		if u, ok := declared[PersonUpdater](t, s, f.PersonUpdate); ok {
			called := false
			_, err = u.UpdatePerson(ctx, "nobody", func(*ports.PersonRecord) error { called = true; return nil })
			require.ErrorIs(t, err, ports.ErrPersonNotFound)
			require.False(t, called, "fn is not called for an unknown person")
		}
	}},
	{name: "CreateTwiceKeepsFirst", run: func(t *testing.T, s SeedablePersonStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.CreatePerson(ctx, person("p1")))
		other := person("p1")
		other.Status = "inactive"
		require.ErrorIs(t, s.CreatePerson(ctx, other), ports.ErrPersonExists)
		got, err := s.Person(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, "active", got.Status)
	}},
	{name: "CopiesInAndOut", run: func(t *testing.T, s SeedablePersonStore, f Features) {
		ctx := context.Background()
		p := person("p1")
		require.NoError(t, s.CreatePerson(ctx, p))
		p.Documents[0].Type = "CHANGED"
		got, err := s.Person(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, "PASSPORT", got.Documents[0].Type, "the caller's slice is not stored")
		got.Documents[0].Type = "CHANGED"
		again, err := s.Person(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, "PASSPORT", again.Documents[0].Type, "a returned slice is not stored")
		if u, ok := declared[PersonUpdater](t, s, f.PersonUpdate); ok {
			updated, err := u.UpdatePerson(ctx, "p1", func(p *ports.PersonRecord) error { return nil })
			require.NoError(t, err)
			updated.Documents[1].Type = "CHANGED"
			again, err = s.Person(ctx, "p1")
			require.NoError(t, err)
			require.Equal(t, "MARRIAGE_CERTIFICATE", again.Documents[1].Type)
		}
	}},
	{name: "UpdateWritesAndKeepsID", needs: featurePersonUpdate, run: func(t *testing.T, s SeedablePersonStore, _ Features) {
		ctx := context.Background()
		u := featureMethod[PersonUpdater](t, s)
		require.NoError(t, s.CreatePerson(ctx, person("p1")))
		got, err := u.UpdatePerson(ctx, "p1", func(p *ports.PersonRecord) error {
			p.ID = "elsewhere"
			p.Status = "inactive"
			p.IsActive = false
			p.VerificationStatus = "NOT_VERIFIED"
			p.Documents = append(p.Documents, ports.PersonDocument{Type: "COURT_DECISION_LEGAL_CAPACITY", Number: "42"})
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, "p1", got.ID)
		stored, err := s.Person(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, got, stored)
		require.Equal(t, "inactive", stored.Status)
		require.False(t, stored.IsActive)
		require.Equal(t, "NOT_VERIFIED", stored.VerificationStatus)
		require.Len(t, stored.Documents, 3)
		_, err = s.Person(ctx, "elsewhere")
		require.ErrorIs(t, err, ports.ErrPersonNotFound)
	}},
	{name: "UpdateErrorWritesNothing", needs: featurePersonUpdate, run: func(t *testing.T, s SeedablePersonStore, _ Features) {
		ctx := context.Background()
		u := featureMethod[PersonUpdater](t, s)
		require.NoError(t, s.CreatePerson(ctx, person("p1")))
		_, err := u.UpdatePerson(ctx, "p1", func(p *ports.PersonRecord) error {
			p.Status = "inactive"
			p.Documents[0].Type = "CHANGED"
			return errRefused
		})
		require.ErrorIs(t, err, errRefused)
		got, err := s.Person(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, "active", got.Status)
		require.Equal(t, "PASSPORT", got.Documents[0].Type)
	}},
	{name: "ConcurrentUpdatesSerialise", needs: featurePersonUpdate, run: func(t *testing.T, s SeedablePersonStore, _ Features) {
		ctx := context.Background()
		u := featureMethod[PersonUpdater](t, s)
		require.NoError(t, s.CreatePerson(ctx, person("p1")))
		const n = 50
		var failures atomic.Int32
		concurrent.Run(n, func(i int) {
			_, err := u.UpdatePerson(ctx, "p1", func(p *ports.PersonRecord) error {
				p.Documents = append(p.Documents, ports.PersonDocument{Type: "DOC", Number: fmt.Sprint(i)})
				return nil
			})
			if err != nil {
				failures.Add(1)
			}
		})
		require.Zero(t, failures.Load())
		got, err := s.Person(ctx, "p1")
		require.NoError(t, err)
		require.Len(t, got.Documents, 2+n, "no update is lost")
	}},
}

func method(id, personID string, typ ports.AuthMethodType, started time.Time) ports.AuthMethodRecord {
	return ports.AuthMethodRecord{
		ID: id, PersonID: personID, Type: typ, Alias: "alias-" + id,
		Phone: "+380930000001", Value: "value-" + id,
		StartedAt: started, IsActive: true,
	}
}

// active counts the methods with IsActive set.
func active(ms []ports.AuthMethodRecord) int {
	n := 0
	for _, m := range ms {
		if m.IsActive {
			n++
		}
	}
	return n
}

// RunAuthMethodStore runs the conformance suite of ports.AuthMethodStore, a sub-test per
// case of authMethodStoreCases (see CaseNames). newStore must return an empty store; it
// is called once per case.
func RunAuthMethodStore(t *testing.T, f Features, newStore func(t *testing.T) SeedableAuthMethodStore) {
	runSuite(t, f, newStore, authMethodStoreCases)
}

// authMethodStoreCases are the cases of RunAuthMethodStore.
var authMethodStoreCases = []suiteCase[SeedableAuthMethodStore]{
	errorsCase(authMethodStoreErrorCases),
	{name: "RoundTripInOrderAdded", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		m1 := method("m1", "p1", ports.AuthMethodOTP, base.Add(time.Hour))
		m1.IsPrimary = true
		m1.EndedAt = base.Add(48 * time.Hour)
		m2 := method("m2", "p1", ports.AuthMethodThirdPerson, base) // started earlier, added later
		m2.Phone = ""
		m3 := method("m3", "p2", ports.AuthMethodOffline, base)
		for _, m := range []ports.AuthMethodRecord{m1, m2, m3} {
			require.NoError(t, s.AddAuthMethod(ctx, m))
		}
		got, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, "m1", got[0].ID, "listed in the order added, not by StartedAt")
		require.Equal(t, "m2", got[1].ID)
		for i, want := range []ports.AuthMethodRecord{m1, m2} {
			require.True(t, want.StartedAt.Equal(got[i].StartedAt))
			require.True(t, want.EndedAt.Equal(got[i].EndedAt))
			require.EqualValues(t, 1, got[i].Version, "an added method is version 1")
			got[i].StartedAt, got[i].EndedAt, got[i].Version = want.StartedAt, want.EndedAt, want.Version
			require.Equal(t, want, got[i])
		}
		require.True(t, got[1].EndedAt.IsZero(), "a zero EndedAt stays zero")
	}},
	{name: "VersionGrowsWithEachChange", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOTP, base)))
		require.NoError(t, s.AddAuthMethod(ctx, method("m2", "p1", ports.AuthMethodThirdPerson, base)))
		out, err := s.UpdateAuthMethods(ctx, "p1", func(ms []ports.AuthMethodRecord) error {
			ms[0].IsActive, ms[0].Version = false, 77 // changed; the version set is ignored
			ms[1].Version = 99                        // unchanged values: no new version
			return nil
		})
		require.NoError(t, err)
		require.EqualValues(t, 2, out[0].Version, "changed: one more")
		require.EqualValues(t, 1, out[1].Version, "unchanged")
		got, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.EqualValues(t, 2, got[0].Version)
		require.EqualValues(t, 1, got[1].Version)
	}},
	{name: "ByIDWhoeverOwnsIt", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOTP, base)))
		require.NoError(t, s.AddAuthMethod(ctx, method("m2", "p2", ports.AuthMethodThirdPerson, base)))
		for id, owner := range map[string]string{"m1": "p1", "m2": "p2"} {
			got, err := s.AuthMethod(ctx, id)
			require.NoError(t, err)
			require.Equal(t, id, got.ID)
			require.Equal(t, owner, got.PersonID)
		}
		_, err := s.UpdateAuthMethods(ctx, "p2", func(ms []ports.AuthMethodRecord) error {
			ms[0].IsActive = false
			return nil
		})
		require.NoError(t, err)
		got, err := s.AuthMethod(ctx, "m2")
		require.NoError(t, err)
		require.False(t, got.IsActive, "the lookup reads the current record")
		_, err = s.AuthMethod(ctx, "nope")
		require.ErrorIs(t, err, ports.ErrAuthMethodNotFound)
	}},
	{name: "UnknownPersonHasNone", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		got, err := s.AuthMethods(ctx, "nobody")
		require.NoError(t, err)
		require.Empty(t, got)
		calls := 0
		got, err = s.UpdateAuthMethods(ctx, "nobody", func(ms []ports.AuthMethodRecord) error {
			calls++
			if len(ms) != 0 {
				return errRefused
			}
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, 1, calls)
		require.Empty(t, got)
	}},
	{name: "DuplicateIDAcrossPersons", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOTP, base)))
		require.ErrorIs(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOffline, base)), ports.ErrAuthMethodExists)
		require.ErrorIs(t, s.AddAuthMethod(ctx, method("m1", "p2", ports.AuthMethodOffline, base)), ports.ErrAuthMethodExists)
		got, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.Equal(t, ports.AuthMethodOTP, got[0].Type)
		got, err = s.AuthMethods(ctx, "p2")
		require.NoError(t, err)
		require.Empty(t, got)
	}},
	{name: "UpdateWritesEveryField", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOTP, base)))
		require.NoError(t, s.AddAuthMethod(ctx, method("m2", "p1", ports.AuthMethodThirdPerson, base)))
		require.NoError(t, s.AddAuthMethod(ctx, method("m3", "p2", ports.AuthMethodThirdPerson, base)))
		ended := base.Add(time.Minute)
		got, err := s.UpdateAuthMethods(ctx, "p1", func(ms []ports.AuthMethodRecord) error {
			require.Len(t, ms, 2)
			ms[1].IsActive = false
			ms[1].EndedAt = ended
			ms[1].IsPrimary = true
			ms[0].Alias = "renamed"
			ms[0].Phone = "+380930000002"
			ms[0].Value = "v"
			ms[0].Type = ports.AuthMethodOffline
			ms[0].StartedAt = base.Add(-time.Hour)
			return nil
		})
		require.NoError(t, err)
		stored, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, got, stored)
		require.False(t, stored[1].IsActive)
		require.True(t, stored[1].IsPrimary)
		require.True(t, ended.Equal(stored[1].EndedAt))
		require.Equal(t, "renamed", stored[0].Alias)
		require.Equal(t, "+380930000002", stored[0].Phone)
		require.Equal(t, "v", stored[0].Value)
		require.Equal(t, ports.AuthMethodOffline, stored[0].Type)
		require.True(t, base.Add(-time.Hour).Equal(stored[0].StartedAt))
		other, err := s.AuthMethods(ctx, "p2")
		require.NoError(t, err)
		require.True(t, other[0].IsActive, "another person's methods are untouched")
	}},
	{name: "UpdateErrorWritesNothing", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOTP, base)))
		_, err := s.UpdateAuthMethods(ctx, "p1", func(ms []ports.AuthMethodRecord) error {
			ms[0].IsActive = false
			return errRefused
		})
		require.ErrorIs(t, err, errRefused)
		got, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.True(t, got[0].IsActive)
	}},
	{name: "IdentityCannotChange", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOTP, base)))
		require.NoError(t, s.AddAuthMethod(ctx, method("m2", "p1", ports.AuthMethodOTP, base)))
		for name, change := range map[string]func(*ports.AuthMethodRecord){
			"ID":       func(m *ports.AuthMethodRecord) { m.ID = "m9" },
			"PersonID": func(m *ports.AuthMethodRecord) { m.PersonID = "p2" },
		} {
			_, err := s.UpdateAuthMethods(ctx, "p1", func(ms []ports.AuthMethodRecord) error {
				ms[0].IsActive = false
				change(&ms[1])
				return nil
			})
			require.ErrorIs(t, err, ports.ErrAuthMethodImmutable, name)
			got, err := s.AuthMethods(ctx, "p1")
			require.NoError(t, err)
			require.Equal(t, 2, active(got), "%s: nothing is written", name)
			require.Equal(t, "m2", got[1].ID)
		}
		got, err := s.AuthMethods(ctx, "p2")
		require.NoError(t, err)
		require.Empty(t, got)
	}},
	{name: "CopiesInAndOut", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("m1", "p1", ports.AuthMethodOTP, base)))
		got, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		got[0].IsActive = false
		var kept []ports.AuthMethodRecord
		after, err := s.UpdateAuthMethods(ctx, "p1", func(ms []ports.AuthMethodRecord) error {
			kept = ms
			return nil
		})
		require.NoError(t, err)
		after[0].IsActive = false
		kept[0].IsActive = false
		again, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.True(t, again[0].IsActive, "no slice a caller holds reaches the stored state")
	}},
	{name: "ConcurrentLastMethodGuard", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		// Every goroutine ends one method only when another stays active: the check and
		// the write are one atomic step, so exactly one method is left.
		const n = 20
		for i := range n {
			require.NoError(t, s.AddAuthMethod(ctx, method(fmt.Sprint("m", i), "p1", ports.AuthMethodThirdPerson, base)))
		}
		var ended, refused, failures atomic.Int32
		concurrent.Run(n, func(i int) {
			id := fmt.Sprint("m", i)
			_, err := s.UpdateAuthMethods(ctx, "p1", func(ms []ports.AuthMethodRecord) error {
				if active(ms) < 2 {
					return errRefused
				}
				for j := range ms {
					if ms[j].ID == id {
						ms[j].IsActive = false
					}
				}
				return nil
			})
			switch {
			case err == nil:
				ended.Add(1)
			case errors.Is(err, errRefused):
				refused.Add(1)
			default:
				failures.Add(1)
			}
		})
		require.Zero(t, failures.Load())
		require.Equal(t, int32(n-1), ended.Load())
		require.Equal(t, int32(1), refused.Load())
		got, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.Equal(t, 1, active(got))
	}},
	{name: "ConcurrentUpdatesAndAddsAreNotLost", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddAuthMethod(ctx, method("counter", "p1", ports.AuthMethodOTP, base)))
		const n = 40
		var failures atomic.Int32
		concurrent.Run(n, func(i int) {
			var err error
			if i%2 == 0 {
				err = s.AddAuthMethod(ctx, method(fmt.Sprint("added", i), "p1", ports.AuthMethodOTP, base))
			} else {
				_, err = s.UpdateAuthMethods(ctx, "p1", func(ms []ports.AuthMethodRecord) error {
					ms[0].Alias += "x"
					return nil
				})
			}
			if err != nil {
				failures.Add(1)
			}
		})
		require.Zero(t, failures.Load())
		got, err := s.AuthMethods(ctx, "p1")
		require.NoError(t, err)
		require.Len(t, got, 1+n/2, "every add is kept")
		require.Equal(t, "alias-counter"+strings.Repeat("x", n/2), got[0].Alias, "every update is kept")
	}},
	{name: "ConcurrentDuplicateAddOnce", run: func(t *testing.T, s SeedableAuthMethodStore, _ Features) {
		ctx := context.Background()
		const n = 20
		var ok, exists atomic.Int32
		concurrent.Run(n, func(i int) {
			err := s.AddAuthMethod(ctx, method("same", fmt.Sprint("p", i%4), ports.AuthMethodOTP, base))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ports.ErrAuthMethodExists):
				exists.Add(1)
			}
		})
		require.Equal(t, int32(1), ok.Load())
		require.Equal(t, int32(n-1), exists.Load())
	}},
}

func relationship(id, personID, confidantID string) ports.ConfidantRelationship {
	return ports.ConfidantRelationship{
		ID: id, PersonID: personID, ConfidantPersonID: confidantID,
		VerificationStatus: "VERIFIED", IsActive: true, ActiveTo: base.Add(365 * 24 * time.Hour),
	}
}

// RunConfidantStore runs the conformance suite of ports.ConfidantStore, a sub-test per
// case of confidantStoreCases (see CaseNames); f.ConfidantUpdate adds the cases of
// ConfidantUpdater. newStore must return an empty store; it is called once per case.
func RunConfidantStore(t *testing.T, f Features, newStore func(t *testing.T) SeedableConfidantStore) {
	runSuite(t, f, newStore, confidantStoreCases)
}

// confidantStoreCases are the cases of RunConfidantStore.
var confidantStoreCases = []suiteCase[SeedableConfidantStore]{
	errorsCase(confidantStoreErrorCases),
	{name: "RoundTripByPersonInOrderAdded", run: func(t *testing.T, s SeedableConfidantStore, _ Features) {
		ctx := context.Background()
		r1 := relationship("r1", "child", "mother")
		r2 := relationship("r2", "child", "father")
		r2.ActiveTo = time.Time{}
		r2.VerificationStatus = "IN_REVIEW"
		r2.IsActive = false
		r3 := relationship("r3", "mother", "grandmother")
		for _, r := range []ports.ConfidantRelationship{r1, r2, r3} {
			require.NoError(t, s.AddConfidantRelationship(ctx, r))
		}
		got, err := s.ConfidantRelationships(ctx, "child")
		require.NoError(t, err)
		require.Len(t, got, 2, "only relationships whose PersonID matches, whatever their state")
		for i, want := range []ports.ConfidantRelationship{r1, r2} {
			require.True(t, want.ActiveTo.Equal(got[i].ActiveTo))
			got[i].ActiveTo = want.ActiveTo
			require.Equal(t, want, got[i])
		}
		got, err = s.ConfidantRelationships(ctx, "father")
		require.NoError(t, err)
		require.Empty(t, got, "listed by the represented person, not by the confidant")
	}},
	{name: "DuplicateKeepsFirst", run: func(t *testing.T, s SeedableConfidantStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.AddConfidantRelationship(ctx, relationship("r1", "child", "mother")))
		require.ErrorIs(t, s.AddConfidantRelationship(ctx, relationship("r1", "other", "mother")), ports.ErrConfidantRelationshipExists)
		got, err := s.ConfidantRelationships(ctx, "other")
		require.NoError(t, err)
		require.Empty(t, got)
	}},
	{name: "Update", needs: featureConfidantUpdate, run: func(t *testing.T, s SeedableConfidantStore, _ Features) {
		ctx := context.Background()
		u := featureMethod[ConfidantUpdater](t, s)
		require.NoError(t, s.AddConfidantRelationship(ctx, relationship("r1", "child", "mother")))
		called := false
		_, err := u.UpdateConfidantRelationship(ctx, "nope", func(*ports.ConfidantRelationship) error { called = true; return nil })
		require.ErrorIs(t, err, ports.ErrConfidantRelationshipNotFound)
		require.False(t, called)

		_, err = u.UpdateConfidantRelationship(ctx, "r1", func(r *ports.ConfidantRelationship) error {
			r.IsActive = false
			return errRefused
		})
		require.ErrorIs(t, err, errRefused)
		got, err := s.ConfidantRelationships(ctx, "child")
		require.NoError(t, err)
		require.True(t, got[0].IsActive, "an error writes nothing")

		updated, err := u.UpdateConfidantRelationship(ctx, "r1", func(r *ports.ConfidantRelationship) error {
			r.ID, r.PersonID = "r9", "other"
			r.IsActive = false
			r.VerificationStatus = "NOT_VERIFIED"
			r.ActiveTo = base
			r.ConfidantPersonID = "guardian"
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, "r1", updated.ID)
		require.Equal(t, "child", updated.PersonID)
		got, err = s.ConfidantRelationships(ctx, "child")
		require.NoError(t, err)
		require.Len(t, got, 1)
		require.False(t, got[0].IsActive)
		require.Equal(t, "NOT_VERIFIED", got[0].VerificationStatus)
		require.Equal(t, "guardian", got[0].ConfidantPersonID)
		require.True(t, base.Equal(got[0].ActiveTo))
	}},
	{name: "ConcurrentUpdatesSerialise", needs: featureConfidantUpdate, run: func(t *testing.T, s SeedableConfidantStore, _ Features) {
		ctx := context.Background()
		u := featureMethod[ConfidantUpdater](t, s)
		r := relationship("r1", "child", "mother")
		r.ActiveTo = base
		require.NoError(t, s.AddConfidantRelationship(ctx, r))
		const n = 50
		var failures atomic.Int32
		concurrent.Run(n, func(int) {
			_, err := u.UpdateConfidantRelationship(ctx, "r1", func(r *ports.ConfidantRelationship) error {
				r.ActiveTo = r.ActiveTo.Add(time.Second)
				return nil
			})
			if err != nil {
				failures.Add(1)
			}
		})
		require.Zero(t, failures.Load())
		got, err := s.ConfidantRelationships(ctx, "child")
		require.NoError(t, err)
		require.True(t, base.Add(n*time.Second).Equal(got[0].ActiveTo))
	}},
}

package porttest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/internal/concurrent"
	"github.com/verifykit/verifykit/ports"
)

// personRequest returns a full request: every field set, a third person, uploads.
func personRequest(id string, status ports.PersonRequestStatus, created time.Time) ports.PersonRequest {
	return ports.PersonRequest{
		ID:     id,
		Status: status,
		Person: ports.PersonRequestPerson{
			FirstName: "Petro", LastName: "Ivanenko", SecondName: "Mykolaiovych",
			Documents: []ports.PersonDocument{{Type: "PASSPORT", Number: "AB123456"}, {Type: "TAX_ID", Number: "1234567890"}},
			AuthMethods: []ports.PersonRequestAuthMethod{
				{Type: ports.AuthMethodOTP, Alias: "mobile", Phone: "+380931234585", Primary: true},
				{Type: ports.AuthMethodThirdPerson, Alias: "mother"},
			},
		},
		ThirdPerson: ports.PersonRequestPerson{
			FirstName: "Olena", LastName: "Ivanenko",
			Documents:   []ports.PersonDocument{{Type: "PASSPORT", Number: "CD654321"}},
			AuthMethods: []ports.PersonRequestAuthMethod{{Type: ports.AuthMethodOTP, Phone: "+380501112233", Primary: true}},
		},
		CurrentAuthMethod: 1,
		Uploads: []ports.PersonRequestUpload{
			{DocumentType: "person.PASSPORT", URL: "https://u.example/1", ExpiresAt: created.Add(time.Hour)},
			{DocumentType: "third_person.PASSPORT", URL: "https://u.example/2", ExpiresAt: created.Add(time.Hour)},
		},
		UploadVersion: 3,
		Verification:  sampleVerification("c-"+id, "person_request", id, created),
		CreatedAt:     created,
		UpdatedAt:     created.Add(time.Minute),
	}
}

// requireSameRequest compares requests, times by instant (stores may change locations).
// Versions are not compared: the store sets them (see "VersionGrowsByOnePerChange").
func requireSameRequest(t *testing.T, want, got ports.PersonRequest) {
	t.Helper()
	want.Version, got.Version = 0, 0
	require.True(t, want.CreatedAt.Equal(got.CreatedAt), "CreatedAt %v != %v", want.CreatedAt, got.CreatedAt)
	require.True(t, want.UpdatedAt.Equal(got.UpdatedAt), "UpdatedAt %v != %v", want.UpdatedAt, got.UpdatedAt)
	require.Len(t, got.Uploads, len(want.Uploads))
	for i := range want.Uploads {
		require.True(t, want.Uploads[i].ExpiresAt.Equal(got.Uploads[i].ExpiresAt))
		got.Uploads[i].ExpiresAt = want.Uploads[i].ExpiresAt
	}
	requireSameVerification(t, "the request's Verification", want.Verification, got.Verification)
	got.CreatedAt, got.UpdatedAt, got.Verification = want.CreatedAt, want.UpdatedAt, want.Verification
	require.Equal(t, want, got)
}

const (
	prID1 = "6f1c2a52-0000-4000-8000-000000000001"
	prID2 = "6f1c2a52-0000-4000-8000-000000000002"
	prID3 = "6f1c2a52-0000-4000-8000-000000000003"
	prID4 = "6f1c2a52-0000-4000-8000-000000000004"
)

// RunPersonRequestStore runs the conformance suite of ports.PersonRequestStore, a sub-test
// per case of personRequestStoreCases (see CaseNames). newStore must return an empty
// store; it is called once per case.
func RunPersonRequestStore(t *testing.T, f Features, newStore func(t *testing.T) ports.PersonRequestStore) {
	runSuite(t, f, newStore, personRequestStoreCases)
}

// personRequestStoreCases are the cases of RunPersonRequestStore.
var personRequestStoreCases = []suiteCase[ports.PersonRequestStore]{
	errorsCase(personRequestStoreErrorCases),
	{name: "CreateGetRoundTrips", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		want := personRequest(prID1, ports.PersonRequestNew, base)
		require.NoError(t, s.Create(ctx, want))
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		requireSameRequest(t, want, got)
	}},
	{name: "VersionGrowsByOnePerChange", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		want := personRequest(prID1, ports.PersonRequestNew, base)
		want.Version = 41 // ignored: the store counts
		require.NoError(t, s.Create(ctx, want))
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		require.EqualValues(t, 1, got.Version, "created: version 1")
		for v := int64(2); v <= 3; v++ {
			up, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error { r.Version = 0; r.UpdatedAt = base; return nil })
			require.NoError(t, err)
			require.Equal(t, v, up.Version, "one more per Update, whatever fn left")
		}
		_, err = s.Update(ctx, prID1, func(*ports.PersonRequest) error { return errors.New("no") })
		require.Error(t, err)
		got, err = s.Get(ctx, prID1)
		require.NoError(t, err)
		require.EqualValues(t, 3, got.Version, "a failed Update stores no version")
	}},
	{name: "ZeroThirdPersonRoundTrips", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		want := personRequest(prID1, ports.PersonRequestNew, base)
		want.ThirdPerson = ports.PersonRequestPerson{}
		want.Uploads = nil
		require.NoError(t, s.Create(ctx, want))
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		require.True(t, got.ThirdPerson.IsZero())
		require.Empty(t, got.Uploads)
	}},
	{name: "VerificationRoundTrips", each: personRequestVerificationCases()},
	{name: "CreateDuplicateChangesNothing", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		first := personRequest(prID1, ports.PersonRequestNew, base)
		require.NoError(t, s.Create(ctx, first))
		second := personRequest(prID1, ports.PersonRequestApproved, base.Add(time.Hour))
		second.Person.FirstName = "Other"
		require.ErrorIs(t, s.Create(ctx, second), ports.ErrPersonRequestExists)
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		requireSameRequest(t, first, got)
	}},
	{name: "MissingIsNotFound", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		_, err := s.Get(ctx, prID1)
		require.ErrorIs(t, err, ports.ErrPersonRequestNotFound)
		called := false
		_, err = s.Update(ctx, prID1, func(*ports.PersonRequest) error { called = true; return nil })
		require.ErrorIs(t, err, ports.ErrPersonRequestNotFound)
		require.False(t, called, "fn is not called for a missing request")
	}},
	{name: "UpdateWritesAndReturns", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.Create(ctx, personRequest(prID1, ports.PersonRequestNew, base)))
		var seen ports.PersonRequest
		got, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error {
			seen = r.Clone()
			r.Status = ports.PersonRequestApproved
			r.CurrentAuthMethod = 0
			r.UploadVersion++
			r.Uploads = []ports.PersonRequestUpload{{DocumentType: "person.PASSPORT", URL: "https://u.example/3", ExpiresAt: base.Add(2 * time.Hour)}}
			r.Person.AuthMethods[1].Alias = "mum"
			r.Verification.Code.State, r.Verification.Code.UsedAt = ports.CodeVerified, base.Add(time.Hour)
			r.Verification.Failures = append(r.Verification.Failures, base.Add(time.Second))
			r.UpdatedAt = base.Add(time.Hour)
			return nil
		})
		require.NoError(t, err)
		requireSameRequest(t, personRequest(prID1, ports.PersonRequestNew, base), seen)
		want := personRequest(prID1, ports.PersonRequestApproved, base)
		want.CurrentAuthMethod = 0
		want.UploadVersion = 4
		want.Uploads = []ports.PersonRequestUpload{{DocumentType: "person.PASSPORT", URL: "https://u.example/3", ExpiresAt: base.Add(2 * time.Hour)}}
		want.Person.AuthMethods[1].Alias = "mum"
		want.Verification.Code.State, want.Verification.Code.UsedAt = ports.CodeVerified, base.Add(time.Hour)
		want.Verification.Failures = append(want.Verification.Failures, base.Add(time.Second))
		want.UpdatedAt = base.Add(time.Hour)
		requireSameRequest(t, want, got)
		stored, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		requireSameRequest(t, want, stored)
	}},
	{name: "UpdateWipesData", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.Create(ctx, personRequest(prID1, ports.PersonRequestNew, base)))
		_, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error {
			r.Status = ports.PersonRequestExpired
			r.Person, r.ThirdPerson, r.Uploads = ports.PersonRequestPerson{}, ports.PersonRequestPerson{}, nil
			return nil
		})
		require.NoError(t, err)
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		require.Equal(t, ports.PersonRequestExpired, got.Status)
		require.True(t, got.Person.IsZero())
		require.True(t, got.ThirdPerson.IsZero())
		require.Empty(t, got.Uploads)
	}},
	{name: "FailedUpdateLeavesTheRequestAsBefore", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		want := personRequest(prID1, ports.PersonRequestNew, base)
		require.NoError(t, s.Create(ctx, want))
		boom := errors.New("boom")
		_, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error {
			// A use case whose last step fails: the status, the person, the URLs and the
			// code were all changed before it.
			r.Status = ports.PersonRequestApproved
			r.Person.Documents[0].Number = "changed"
			r.Uploads, r.UploadVersion = nil, r.UploadVersion+1
			r.CurrentAuthMethod = 0
			r.Verification.Code.State, r.Verification.Code.Attempts = ports.CodeVerified, 2
			r.Verification.Code.UsedAt, r.Verification.KeepUntil = base.Add(time.Minute), base.Add(48*time.Hour)
			r.Verification.Code.Hash[0], r.Verification.Failures[0] = 'X', base // in place
			r.Verification.Failures = append(r.Verification.Failures, base)
			r.UpdatedAt = base.Add(time.Hour)
			return boom
		})
		require.Same(t, boom, err, "fn's error comes back as is")
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		requireSameRequest(t, personRequest(prID1, ports.PersonRequestNew, base), got) // every field, the Verification's too
	}},
	{name: "UpdateKeepsID", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.Create(ctx, personRequest(prID1, ports.PersonRequestNew, base)))
		got, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error { r.ID = prID2; return nil })
		require.NoError(t, err)
		require.Equal(t, prID1, got.ID)
		_, err = s.Get(ctx, prID1)
		require.NoError(t, err)
		_, err = s.Get(ctx, prID2)
		require.ErrorIs(t, err, ports.ErrPersonRequestNotFound)
	}},
	{name: "ValuesAreCopied", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		want := personRequest(prID1, ports.PersonRequestNew, base)
		in := want.Clone()
		require.NoError(t, s.Create(ctx, in))
		in.Person.Documents[0].Number = "mutated"
		in.ThirdPerson.AuthMethods[0].Phone = "mutated"
		in.Uploads[0].URL = "mutated"
		in.Verification.Code.Hash[0], in.Verification.Failures[0] = 'X', base

		out, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		out.Person.AuthMethods[0].Phone = "mutated"
		out.Uploads[1].URL = "mutated"
		out.Verification.Code.Hash[1], out.Verification.Failures[1] = 'Y', base

		var kept *ports.PersonRequest
		ret, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error { kept = r; return nil })
		require.NoError(t, err)
		ret.Person.Documents[1].Number = "mutated"
		kept.ThirdPerson.Documents[0].Number = "mutated"
		kept.Verification.Code.Hash[2] = 'Z'
		ret.Verification.Failures[0] = base

		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		requireSameRequest(t, want, got)
	}},
	{name: "ListCreatedBefore", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.Create(ctx, personRequest(prID3, ports.PersonRequestNew, base.Add(-2*time.Hour))))
		require.NoError(t, s.Create(ctx, personRequest(prID2, ports.PersonRequestApproved, base.Add(-3*time.Hour))))
		require.NoError(t, s.Create(ctx, personRequest(prID1, ports.PersonRequestNew, base.Add(-2*time.Hour))))
		require.NoError(t, s.Create(ctx, personRequest(prID4, ports.PersonRequestSigned, base.Add(-5*time.Hour))))
		require.NoError(t, s.Create(ctx, personRequest("6f1c2a52-0000-4000-8000-000000000005", ports.PersonRequestNew, base)))
		open := []ports.PersonRequestStatus{ports.PersonRequestNew, ports.PersonRequestApproved}

		ids, err := s.ListCreatedBefore(ctx, open, base, 10)
		require.NoError(t, err)
		require.Equal(t, []string{prID2, prID1, prID3}, ids, "oldest first, ties by id; status filtered; strictly before")

		ids, err = s.ListCreatedBefore(ctx, open, base, 2)
		require.NoError(t, err)
		require.Equal(t, []string{prID2, prID1}, ids)

		ids, err = s.ListCreatedBefore(ctx, open, base.Add(-2*time.Hour), 10)
		require.NoError(t, err)
		require.Equal(t, []string{prID2}, ids, "CreatedAt equal to before is not listed")

		ids, err = s.ListCreatedBefore(ctx, []ports.PersonRequestStatus{ports.PersonRequestSigned}, base, 10)
		require.NoError(t, err)
		require.Equal(t, []string{prID4}, ids)

		ids, err = s.ListCreatedBefore(ctx, open, base, 0)
		require.NoError(t, err)
		require.Empty(t, ids)
		ids, err = s.ListCreatedBefore(ctx, nil, base, 10)
		require.NoError(t, err)
		require.Empty(t, ids)
	}},
	{name: "ConcurrentUpdatesAreSerialized", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.Create(ctx, personRequest(prID1, ports.PersonRequestNew, base)))
		var errs atomic.Int32
		concurrent.Run(100, func(i int) {
			_, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error {
				r.UploadVersion++
				r.Verification.Code.Attempts++
				r.Uploads = append(r.Uploads, ports.PersonRequestUpload{DocumentType: fmt.Sprint("person.T", i), URL: fmt.Sprint("https://u.example/x", i), ExpiresAt: base})
				return nil
			})
			if err != nil {
				errs.Add(1)
			}
		})
		require.Zero(t, errs.Load())
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		require.Equal(t, 103, got.UploadVersion, "no update is lost")
		require.Equal(t, 101, got.Verification.Code.Attempts, "no change of the Verification is lost")
		require.Len(t, got.Uploads, 102)
	}},
	{name: "ConcurrentTransitionSucceedsOnce", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		require.NoError(t, s.Create(ctx, personRequest(prID1, ports.PersonRequestNew, base)))
		notNew := errors.New("not new")
		var wins, losses, others atomic.Int32
		concurrent.Run(50, func(int) {
			_, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error {
				if r.Status != ports.PersonRequestNew {
					return notNew
				}
				r.Status = ports.PersonRequestApproved
				return nil
			})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, notNew):
				losses.Add(1)
			default:
				others.Add(1)
			}
		})
		require.EqualValues(t, 1, wins.Load(), "exactly one transition wins")
		require.EqualValues(t, 49, losses.Load())
		require.Zero(t, others.Load())
	}},
	{name: "CancelledContext", run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
		ctx := context.Background()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.Error(t, s.Create(cctx, personRequest(prID1, ports.PersonRequestNew, base)))
		_, err := s.Get(ctx, prID1)
		require.ErrorIs(t, err, ports.ErrPersonRequestNotFound, "a cancelled create leaves nothing behind")

		require.NoError(t, s.Create(ctx, personRequest(prID1, ports.PersonRequestNew, base)))
		_, err = s.Update(cctx, prID1, func(r *ports.PersonRequest) error { r.Status = ports.PersonRequestCancelled; return nil })
		require.Error(t, err)
		got, err := s.Get(ctx, prID1)
		require.NoError(t, err)
		require.Equal(t, ports.PersonRequestNew, got.Status, "a cancelled update writes nothing")
	}},
}

// personRequestVerificationCases are the sub-cases of VerificationRoundTrips: each stores a
// request with a Verification on a store of its own and reads it back, then replaces it
// through Update and puts it back.
func personRequestVerificationCases() []suiteCase[ports.PersonRequestStore] {
	verified := sampleVerification("c-1", "person_request", prID1, base)
	verified.Code.State, verified.Code.Attempts, verified.Code.UsedAt = ports.CodeVerified, 2, base.Add(time.Minute+time.Microsecond)
	zone := time.FixedZone("UTC-03:30", -(3*3600 + 1800))
	inZone := sampleVerification("c-1", "person_request", prID1, base.In(zone))
	var cases []suiteCase[ports.PersonRequestStore]
	for _, c := range []struct {
		name string
		v    ports.Verification
	}{
		{"None", ports.Verification{}},
		{"ActiveCode", sampleVerification("c-1", "person_request", prID1, base.Add(123456*time.Microsecond))},
		{"VerifiedCode", verified},
		{"FailuresWithoutACode", ports.Verification{Failures: []time.Time{base, base.Add(time.Second)}, KeepUntil: base.Add(time.Hour)}},
		{"TimesInAnotherLocation", inZone},
	} {
		cases = append(cases, suiteCase[ports.PersonRequestStore]{name: c.name, run: func(t *testing.T, s ports.PersonRequestStore, _ Features) {
			ctx := context.Background()
			want := personRequest(prID1, ports.PersonRequestNew, base)
			want.Verification = c.v.Clone()
			require.NoError(t, s.Create(ctx, want))
			got, err := s.Get(ctx, prID1)
			require.NoError(t, err)
			requireSameRequest(t, want, got)

			// Through Update: replaced by another Verification, then put back.
			other := sampleVerification("c-2", "person_request", prID1, base.Add(time.Hour))
			for _, v := range []ports.Verification{other, c.v} {
				ret, err := s.Update(ctx, prID1, func(r *ports.PersonRequest) error {
					r.Verification = v.Clone()
					return nil
				})
				require.NoError(t, err)
				want.Verification = v
				requireSameRequest(t, want, ret)
				got, err := s.Get(ctx, prID1)
				require.NoError(t, err)
				requireSameRequest(t, want, got)
			}
		}})
	}
	return cases
}

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
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// prToken is the access token of the person-request tests: both scopes, valid for years.
const prToken = "tok-person-requests"

// newPersonRequests returns a personrequest.Service on db (its request store, and an otp
// engine on its code store and limiter that sends by sms), with the otp config changed by
// configure.
func newPersonRequests(t testing.TB, db *postgres.DB, clock ports.Clock, sms ports.Sender, configure func(*otp.Config)) *personrequest.Service {
	t.Helper()
	tokens := memory.NewTokens()
	tokens.Add(prToken, ports.Claims{
		Subject: "operator", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead},
		ExpiresAt: start.Add(10 * 365 * 24 * time.Hour),
	})
	svc, err := personrequest.NewService(personrequest.Deps{
		Store: db.PersonRequestStore(), OTP: newOTP(t, db, clock, sms, configure), Tokens: tokens,
		Uploads: memory.NewUploadSigner(), Clock: clock,
	}, personrequest.DefaultConfig())
	require.NoError(t, err)
	return svc
}

// newPersonRequest creates a request whose person's primary method is an OTP phone, with a
// third person, through svc.
func newPersonRequest(t testing.TB, svc *personrequest.Service, phone string) personrequest.Request {
	t.Helper()
	r, err := svc.Create(context.Background(), personRequestOf(phone))
	require.NoError(t, err)
	return r
}

// personRequestOf is the CreateRequest of newPersonRequest.
func personRequestOf(phone string) personrequest.CreateRequest {
	return personrequest.CreateRequest{
		Token: prToken,
		Person: personrequest.Person{
			FirstName: "Petro", LastName: "Ivanenko",
			Documents: []personrequest.Document{{Type: "PASSPORT", Number: "AB123456"}, {Type: "TAX_ID", Number: "1234567890"}},
			AuthMethods: []personrequest.AuthMethod{
				{Type: personrequest.AuthOTP, Alias: "mobile", Phone: phone, Primary: true},
				{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			},
		},
		ThirdPerson: personrequest.Person{
			FirstName: "Olena", LastName: "Ivanenko",
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "CD654321"}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Alias: "own", Phone: "+380501112233", Primary: true}},
		},
	}
}

// TestTwoInstancesResendOnePersonRequest races resends of one person request on two host
// instances (two pools, one schema), alternating between the person's own phone and the
// third person's: each resend commits whole (its code, upload URLs and current method in
// one write) or, having lost the race again and again, changes nothing; the request's one
// active code is the one its current method's phone got, and every URL generation that
// committed came with one code.
func TestTwoInstancesResendOnePersonRequest(t *testing.T) {
	ctx := context.Background()
	dbs := instances(t, 2)
	clock := memory.NewClock(start)
	sms := memory.NewSMSOutbox()
	noLimits := func(c *otp.Config) { c.SendLimits = nil }
	svcs := []*personrequest.Service{
		newPersonRequests(t, dbs[0], clock, sms, noLimits),
		newPersonRequests(t, dbs[1], clock, sms, noLimits),
	}
	r := newPersonRequest(t, svcs[0], "+380931234585")

	const n = 40
	errs := race(n, func(i int) error {
		_, err := svcs[i%2].ResendAuthMethod(ctx, personrequest.ResendRequest{Token: prToken, ID: r.ID, Alias: []string{"mobile", "mother"}[i/2%2]})
		return err
	})
	succeeded := 0
	for i, err := range errs {
		if err == nil {
			succeeded++
			continue
		}
		var ve *verifykit.Error
		require.ErrorAs(t, err, &ve, "resend %d", i)
		require.Equal(t, personrequest.MsgResendInProgress, ve.Message, "resend %d", i)
	}
	require.Positive(t, succeeded)

	got, err := dbs[0].PersonRequestStore().Get(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, succeeded+1, got.UploadVersion, "every resend that went through issued one new generation of upload URLs")
	require.Equal(t, ports.CodeActive, got.Verification.Code.State, "the latest code is active")
	want := currentPhone(got)
	code, to, ok := sentCode(sms, got.Verification.Code.ID)
	require.True(t, ok)
	require.Equal(t, want, to, "the current method is the one the active code went to")
	_, err = svcs[1].Approve(ctx, personrequest.ApproveRequest{Token: prToken, ID: r.ID, Code: code})
	require.NoError(t, err)
}

// TestPersonRequestExpireSweepInBatches runs the expiry sweep of the personrequest service
// on PostgreSQL over a backlog larger than one batch.
func TestPersonRequestExpireSweepInBatches(t *testing.T) {
	ctx := context.Background()
	db := instances(t, 1)[0]
	clock := memory.NewClock(start)
	svc := newPersonRequests(t, db, clock, memory.NewSMSOutbox(), nil)
	const n = 7
	for i := range n {
		newPersonRequest(t, svc, fmt.Sprintf("+38093%07d", i))
	}
	clock.Advance(31 * 24 * time.Hour)
	swept := 0
	for {
		res, err := svc.ExpireSweep(ctx, personrequest.ExpireSweepRequest{Batch: 3})
		require.NoError(t, err)
		require.LessOrEqual(t, res.Expired, 3, "a batch is bounded")
		if res.Expired == 0 {
			break
		}
		swept += res.Expired
	}
	require.Equal(t, n, swept)
	ids, err := db.PersonRequestStore().ListCreatedBefore(ctx, []ports.PersonRequestStatus{ports.PersonRequestNew}, clock.Now(), 100)
	require.NoError(t, err)
	require.Empty(t, ids)
}

// TestTextPostgreSQLCannotHoldIsInvalidInput: a name with a NUL character cannot be stored
// in PostgreSQL. The store answers ports.ErrInvalidText, never a message of its own; the
// flow answers KindInvalidInput in its words and stores nothing.
func TestTextPostgreSQLCannotHoldIsInvalidInput(t *testing.T) {
	ctx := context.Background()
	db := instances(t, 1)[0]
	svc := newPersonRequests(t, db, memory.NewClock(start), memory.NewSMSOutbox(), nil)
	req := personRequestOf("+380931234585")
	req.Person.FirstName = "Pe\x00tro"
	_, err := svc.Create(ctx, req)
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	require.Equal(t, storefail.MsgInvalidText, ve.Message)
	require.ErrorIs(t, err, ports.ErrInvalidText, "the store's class stays reachable")
	ids, err := db.PersonRequestStore().ListCreatedBefore(ctx, []ports.PersonRequestStatus{ports.PersonRequestNew}, start.Add(time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, ids, "nothing is stored")
}

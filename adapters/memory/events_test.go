package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// journeyKit is every flow on the memory stores, all writing to one outbox.
type journeyKit struct {
	clock    *memory.Clock
	sms      *memory.SMSOutbox
	tokens   *memory.Tokens
	outbox   *memory.Outbox
	codes    *otp.Service
	requests *personrequest.Service
	procs    *otpprocess.Service
	methods  *authmethod.Service
	profiles *identification.ProfileService
	persons  *memory.PersonStore
	ms       *memory.AuthMethodStore
	pstore   *memory.ProfileStore
	prStore  *memory.PersonRequestStore
}

// Tokens of the journeys: never equal to a subject, so finding one in an event is a leak.
const (
	tokRegistrar = "tok-3f9a-registrar-secret"
	tokOrg       = "tok-77c1-org-secret"
	tokOlena     = "tok-a0b2-olena-secret"
	tokUser      = "tok-5d5d-user-secret"
	tokOperator  = "tok-e1e1-operator-secret"
)

func newJourneyKit(t *testing.T) *journeyKit {
	t.Helper()
	tk := memory.NewTestKit(t, memory.TestKitConfig{Start: time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)})
	k := &journeyKit{clock: tk.Clock, sms: tk.SMS, tokens: tk.Tokens, outbox: memory.NewOutbox(), codes: tk.OTP}
	tk.AddToken(tokRegistrar, ports.Claims{Subject: "registrar", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead}})
	tk.AddToken(tokOrg, ports.Claims{Subject: "org-admin", OrgID: "org-a",
		Scopes:      []string{otpprocess.DefaultAdminScope, otpprocess.DefaultActorScope},
		Permissions: []string{otpprocess.DefaultForceDeletePermission}})
	tk.AddToken(tokOlena, ports.Claims{PersonID: "olena", Subject: "olena", Scopes: []string{authmethod.Scope}})
	tk.AddToken(tokUser, ports.Claims{Subject: "user-7"})
	tk.AddToken(tokOperator, ports.Claims{Subject: "operator-1", Permissions: []string{identification.PermissionResetIdentificationInitiator}})

	prStore, procStore := memory.NewPersonRequestStore(), memory.NewProcessStore()
	k.ms, k.pstore, k.persons, k.prStore = memory.NewAuthMethodStore(), memory.NewProfileStore(), memory.NewPersonStore(), prStore
	tk.Codes.PublishTo(k.outbox)
	prStore.PublishTo(k.outbox)
	procStore.PublishTo(k.outbox)
	k.ms.PublishTo(k.outbox)
	k.pstore.PublishTo(k.outbox)
	var err error
	k.requests, err = personrequest.NewService(personrequest.Deps{Store: prStore, OTP: k.codes, Tokens: k.tokens,
		Uploads: memory.NewUploadSigner(), Clock: k.clock}, personrequest.DefaultConfig())
	require.NoError(t, err)
	k.procs, err = otpprocess.NewService(otpprocess.Deps{Store: procStore, OTP: k.codes, Tokens: k.tokens,
		Clock: k.clock, Events: k.outbox}, otpprocess.DefaultConfig())
	require.NoError(t, err)
	k.methods, err = authmethod.NewService(authmethod.Deps{Persons: k.persons, Methods: k.ms, Confidants: memory.NewConfidantStore(),
		Tokens: k.tokens, Clock: k.clock, Events: k.outbox}, authmethod.DefaultConfig())
	require.NoError(t, err)
	k.profiles, err = identification.NewProfileService(identification.ProfileDeps{Profiles: k.pstore,
		ResetRequests: k.pstore.ResetRequests(), Tokens: k.tokens, Clock: k.clock}, identification.DefaultProfileConfig())
	require.NoError(t, err)
	return k
}

// lastCode is the code of the latest SMS.
func (k *journeyKit) lastCode(t *testing.T) string {
	t.Helper()
	msgs := k.sms.Messages()
	require.NotEmpty(t, msgs)
	code, _ := memory.CodeIn(msgs[len(msgs)-1].Body)
	return code
}

const (
	ownPhone    = "+380931234585"
	motherPhone = "+380501112233"
	actorPhone  = "+34600111222"
	docNumber   = "I-AB 123456"
	passportNo  = "CD654321"
	actorDocNo  = "X1234567L"
)

func (k *journeyKit) newRequest(t *testing.T) personrequest.Request {
	t.Helper()
	k.clock.Advance(time.Minute) // past the send limit of the phone
	r, err := k.requests.Create(context.Background(), personrequest.CreateRequest{
		Token: tokRegistrar,
		Person: personrequest.Person{FirstName: "Petro", LastName: "Ivanenko",
			Documents: []personrequest.Document{{Type: "BIRTH_CERTIFICATE", Number: docNumber}},
			AuthMethods: []personrequest.AuthMethod{
				{Type: personrequest.AuthOTP, Alias: "own phone", Phone: ownPhone, Primary: true},
				{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			}},
		ThirdPerson: personrequest.Person{FirstName: "Olena", LastName: "Ivanenko",
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: passportNo}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Phone: motherPhone, Primary: true}}},
	})
	require.NoError(t, err)
	return r
}

// runJourneys drives every flow through its decisions, allowed and refused, and returns
// the codes that went out.
func (k *journeyKit) runJourneys(t *testing.T) (codes []string) {
	ctx := context.Background()
	// Standalone codes.
	_, err := k.codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-7", Recipient: ownPhone})
	require.NoError(t, err)
	codes = append(codes, k.lastCode(t))
	_, err = k.codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-7", Code: "000000"})
	require.Error(t, err)
	_, err = k.codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-7", Code: codes[0]})
	require.NoError(t, err)

	// Person requests.
	r := k.newRequest(t)
	codes = append(codes, k.lastCode(t))
	k.clock.Advance(time.Minute)
	_, err = k.requests.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: tokRegistrar, ID: r.ID, Alias: "mother"})
	require.NoError(t, err)
	code := k.lastCode(t)
	codes = append(codes, code)
	_, err = k.requests.Approve(ctx, personrequest.ApproveRequest{Token: tokRegistrar, ID: r.ID, Code: "000000"})
	require.Error(t, err)
	_, err = k.requests.Approve(ctx, personrequest.ApproveRequest{Token: tokRegistrar, ID: r.ID, Code: code})
	require.NoError(t, err)
	_, err = k.requests.Sign(ctx, personrequest.ActionRequest{Token: tokRegistrar, ID: r.ID})
	require.NoError(t, err)
	other := k.newRequest(t)
	codes = append(codes, k.lastCode(t))
	_, err = k.requests.Cancel(ctx, personrequest.ActionRequest{Token: tokRegistrar, ID: other.ID})
	require.NoError(t, err)
	k.newRequest(t)
	codes = append(codes, k.lastCode(t))
	k.clock.Advance(60 * 24 * time.Hour)
	_, err = k.requests.ExpireSweep(ctx, personrequest.ExpireSweepRequest{Batch: 10})
	require.NoError(t, err)

	// OTP identification processes.
	create := otpprocess.CreateRequest{Token: tokOrg, OrgID: "org-a", ExpiresIn: "PT1H",
		Actor: otpprocess.Actor{Name: "Ana", MSISDN: ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600111222"},
			IdentityDocument: otpprocess.IdentityDocument{DocumentType: "DNI", DocumentNumber: actorDocNo}},
		TwoFactorType: otpprocess.TwoFactorDocumentNumber, Channel: otpprocess.Channel{Type: otpprocess.ChannelSMS}}
	p, err := k.procs.Create(ctx, create)
	require.NoError(t, err)
	k.clock.Advance(time.Minute)
	_, err = k.procs.Resend(ctx, otpprocess.Request{Token: tokOrg, OrgID: "org-a", ID: p.Process.ID})
	require.NoError(t, err)
	code = k.lastCode(t)
	codes = append(codes, code)
	_, err = k.procs.Validate(ctx, otpprocess.ValidateRequest{Token: tokOrg, OrgID: "org-a", ID: p.Process.ID, Code: code, TwoFactor: "WRONG"})
	require.Error(t, err)
	_, err = k.procs.Validate(ctx, otpprocess.ValidateRequest{Token: tokOrg, OrgID: "org-a", ID: p.Process.ID, Code: code, TwoFactor: actorDocNo})
	require.NoError(t, err)
	_, err = k.procs.Delete(ctx, otpprocess.DeleteRequest{Token: tokOrg, OrgID: "org-a", ID: p.Process.ID, Force: true})
	require.NoError(t, err)
	k.clock.Advance(time.Minute)
	p2, err := k.procs.Create(ctx, create)
	require.NoError(t, err)
	codes = append(codes, k.lastCode(t))
	_, err = k.procs.Cancel(ctx, otpprocess.CancelRequest{Token: tokOrg, OrgID: "org-a", ID: p2.Process.ID, Reason: "Ana called: +34600111222"})
	require.NoError(t, err)

	// Authentication methods.
	now := k.clock.Now()
	require.NoError(t, k.persons.CreatePerson(ctx, ports.PersonRecord{ID: "olena", BirthDate: time.Date(1990, 3, 1, 0, 0, 0, 0, time.UTC),
		Status: "active", IsActive: true, VerificationStatus: "VERIFIED", Documents: []ports.PersonDocument{{Type: "PASSPORT", Number: passportNo}}}))
	require.NoError(t, k.ms.AddAuthMethod(ctx, ports.AuthMethodRecord{ID: "am-1", PersonID: "olena", Type: authmethod.TypeThirdPerson,
		Value: "iryna", StartedAt: now.AddDate(-1, 0, 0), IsActive: true}))
	require.NoError(t, k.ms.AddAuthMethod(ctx, ports.AuthMethodRecord{ID: "am-2", PersonID: "olena", Type: authmethod.TypeOTP,
		Phone: motherPhone, StartedAt: now.AddDate(-1, 0, 0), IsActive: true, IsPrimary: true}))
	_, err = k.methods.Deactivate(ctx, authmethod.DeactivateRequest{Token: tokOlena, MethodID: "am-1"})
	require.NoError(t, err)
	_, err = k.methods.Deactivate(ctx, authmethod.DeactivateRequest{Token: tokOlena, MethodID: "am-2"})
	require.Error(t, err, "an OTP method cannot be deactivated")

	// Profiles.
	require.NoError(t, k.pstore.Create(ctx, ports.ProfileRecord{UserID: "user-7", OrganizationID: "org-eu",
		Profile: ports.Profile{Type: "base", Status: ports.IdentificationApproved, Contact: ports.ProfileContact{PhoneNumber: ownPhone},
			Address: ports.ProfileAddress{Country: "AD", City: "Andorra la Vella"}}}))
	asked, err := k.profiles.AskForReset(ctx, identification.AskForResetRequest{Token: tokUser, Description: "call me on +380931234585"})
	require.NoError(t, err)
	_, err = k.profiles.DeclineResetRequest(ctx, identification.DecideResetRequest{Token: tokOperator, UserID: "user-7", RequestID: asked.Request.ID})
	require.NoError(t, err)
	_, err = k.profiles.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: tokOperator, UserID: "user-7", Fields: []string{"address.city"}})
	require.NoError(t, err)
	_, err = k.profiles.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: tokUser, Changes: []identification.ProfileFieldChange{{Path: "address.city", Value: "Encamp"}}})
	require.NoError(t, err)
	_, err = k.profiles.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: tokUser})
	require.NoError(t, err)
	return codes
}

// eventStrings returns every string an event holds, except ids that are UUIDs.
func eventStrings(ev ports.LifecycleEvent) []string {
	var out []string
	v := reflect.ValueOf(ev)
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String {
			out = append(out, f.String())
		}
	}
	for k, val := range ev.Data {
		out = append(out, k, val)
	}
	keep := out[:0]
	for _, s := range out {
		if uuid.Validate(s) != nil {
			keep = append(keep, s)
		}
	}
	return keep
}

func TestJourneyEventsHoldNoSecrets(t *testing.T) {
	k := newJourneyKit(t)
	codes := k.runJourneys(t)
	events := k.outbox.Events()
	types := map[string]bool{}
	for _, ev := range events {
		types[ev.Type] = true
	}
	for _, typ := range []string{
		otp.EventCodeIssued, otp.EventCodeVerified, otp.EventCodeFailed,
		personrequest.EventCreated, personrequest.EventCodeResent, personrequest.EventApproved, personrequest.EventSigned,
		personrequest.EventCancelled, personrequest.EventExpired,
		otpprocess.EventCreated, otpprocess.EventCodeResent, otpprocess.EventValidationFailed,
		otpprocess.EventValidated, otpprocess.EventDeleted, otpprocess.EventCancelled,
		authmethod.EventDeactivated, authmethod.EventDeactivationRefused,
		identification.EventResetRequestCreated, identification.EventResetRequestDeclined, identification.EventIdentificationReset,
		identification.EventIdentificationSubmitted,
	} {
		require.True(t, types[typ], "the journeys emit %s", typ)
	}
	secrets := append([]string{tokRegistrar, tokOrg, tokOlena, tokUser, tokOperator, docNumber, passportNo, actorDocNo,
		ownPhone, motherPhone, actorPhone, strings.TrimPrefix(ownPhone, "+"), "600111222", "931234585", "501112233"}, codes...)
	for _, ev := range events {
		require.Contains(t, []string{ports.OutcomeSucceeded, ports.OutcomeRefused}, ev.Outcome)
		require.NoError(t, uuid.Validate(ev.ID))
		raw, err := json.Marshal(ev)
		require.NoError(t, err)
		for _, s := range eventStrings(ev) {
			for _, secret := range secrets {
				require.NotContains(t, s, secret, "event %s: %s", ev.Type, raw)
			}
		}
	}
	t.Logf("%d events, %d types", len(events), len(types))
}

// TestConcurrentResendsPublishOneEventPerStoredChange resends one request from many
// goroutines: the outbox holds exactly one code_resent event per resend the store kept.
func TestConcurrentResendsPublishOneEventPerStoredChange(t *testing.T) {
	k := newJourneyKit(t)
	ctx := context.Background()
	r := k.newRequest(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			_, _ = k.requests.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: tokRegistrar, ID: r.ID,
				Alias: []string{"own phone", "mother"}[i%2]})
		})
	}
	wg.Wait()
	stored, err := k.prStore.Get(ctx, r.ID)
	require.NoError(t, err)
	resent, issued := 0, 0
	for _, ev := range k.outbox.Events() {
		if ev.AggregateID != r.ID {
			continue
		}
		switch ev.Type {
		case personrequest.EventCodeResent:
			resent++
		case otp.EventCodeIssued:
			issued++
		}
	}
	require.Positive(t, resent)
	require.Equal(t, stored.UploadVersion-1, resent, "one event per stored resend")
	require.Equal(t, stored.UploadVersion, issued, fmt.Sprintf("one code.issued per stored code (%d)", issued))
}

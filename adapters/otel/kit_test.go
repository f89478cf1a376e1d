package otel_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	_ "time/tzdata" // authmethod counts ages in Europe/Kyiv

	"github.com/verifykit/verifykit/adapters/memory"
	vkotel "github.com/verifykit/verifykit/adapters/otel"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// kit is an Observer on a recording SDK: every ended span in spans, every metric in
// reader.
type kit struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	obs    *vkotel.Observer
	// secrets is every piece of personal data the journeys used: codes, phones, e-mail
	// addresses, tokens, document numbers and names.
	secrets []string
}

func newKit(t testing.TB) *kit {
	k := &kit{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	k.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(k.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.reader))
	obs, err := vkotel.New(vkotel.Options{TracerProvider: k.tp, MeterProvider: mp})
	require.NoError(t, err)
	k.obs = obs
	return k
}

func (k *kit) secret(s ...string) { k.secrets = append(k.secrets, s...) }

// span returns the last ended span named name.
func (k *kit) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	ended := k.spans.Ended()
	for i := len(ended) - 1; i >= 0; i-- {
		if ended[i].Name() == name {
			return ended[i]
		}
	}
	t.Fatalf("no span %q among %v", name, k.names())
	return nil
}

func (k *kit) names() []string {
	var out []string
	for _, s := range k.spans.Ended() {
		out = append(out, s.Name())
	}
	return out
}

// children returns the names of the ended spans whose parent is s.
func (k *kit) children(s sdktrace.ReadOnlySpan) []string {
	var out []string
	for _, c := range k.spans.Ended() {
		if c.Parent().SpanID() == s.SpanContext().SpanID() {
			out = append(out, c.Name())
		}
	}
	return out
}

func attrOf(s sdktrace.ReadOnlySpan, key attribute.Key) string {
	for _, a := range s.Attributes() {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

// metrics returns the sums of the counters and the counts of the histograms, by
// "name{key=value,...}" with the attributes sorted.
func (k *kit) metrics(t *testing.T) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, k.reader.Collect(context.Background(), &rm))
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name+setKey(p.Attributes)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name+setKey(p.Attributes)] += int64(p.Count)
				}
			}
		}
	}
	return out
}

func setKey(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// recorded returns every string the SDK holds: span names, status descriptions, span and
// event attributes, event names, metric names and metric attributes.
func (k *kit) recorded(t *testing.T) []string {
	var out []string
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			out = append(out, string(kv.Key), kv.Value.String())
		}
	}
	for _, s := range k.spans.Ended() {
		out = append(out, s.Name(), s.Status().Description)
		add(s.Attributes())
		for _, e := range s.Events() {
			out = append(out, e.Name)
			add(e.Attributes)
		}
		for _, l := range s.Links() {
			add(l.Attributes)
		}
		add(s.Resource().Attributes())
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, k.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, m.Name, m.Description, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.ToSlice())
				}
			}
		}
	}
	return out
}

var (
	t0 = time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)
)

// codes is an otp engine on the memory adapters, observed by k.
func (k *kit) codes(t testing.TB, clock ports.Clock, sms ports.Sender) *otp.Service {
	return memory.NewTestEngine(t, otp.Deps{SMS: sms, Clock: clock, Observer: k.obs}, nil)
}

// otpJourney issues a code, verifies it wrong then right, and issues again too soon.
func otpJourney(t *testing.T, k *kit) {
	ctx := context.Background()
	clock := memory.NewClock(t0)
	sms := memory.NewSMSOutbox()
	codes := k.codes(t, clock, sms)
	const phone = "+380931234585"
	_, err := codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-1", Recipient: phone})
	require.NoError(t, err)
	msg, ok := sms.Last(phone)
	require.True(t, ok)
	code, _ := memory.CodeIn(msg.Body)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	k.secret(phone, code, msg.Body, strings.TrimPrefix(phone, "+"))
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: wrong})
	require.ErrorIs(t, err, otp.ErrWrongCode)
	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-1", Code: code})
	require.NoError(t, err)
	_, err = codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-1", Recipient: phone})
	require.Error(t, err) // 30 seconds apart
}

// personRequestJourney creates a request, resends its code to the mother, approves with
// a wrong code, then with the right one.
func personRequestJourney(t *testing.T, k *kit) {
	ctx := context.Background()
	clock := memory.NewClock(t0)
	sms := memory.NewSMSOutbox()
	tokens := memory.NewTokens()
	const token = "registrar-token-secret"
	tokens.Add(token, ports.Claims{Subject: "registrar", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead}, ExpiresAt: t0.Add(time.Hour)})
	svc, err := personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: k.codes(t, clock, sms), Tokens: tokens,
		Uploads: memory.NewUploadSigner(), Clock: clock, Observer: k.obs,
	}, personrequest.DefaultConfig())
	require.NoError(t, err)
	r, err := svc.Create(ctx, personrequest.CreateRequest{
		Token: token,
		Person: personrequest.Person{
			FirstName: "Petro", LastName: "Ivanenko",
			Documents: []personrequest.Document{{Type: "BIRTH_CERTIFICATE", Number: "I-AB 123456"}},
			AuthMethods: []personrequest.AuthMethod{
				{Type: personrequest.AuthOTP, Alias: "own phone", Phone: "+380931234585", Primary: true},
				{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			},
		},
		ThirdPerson: personrequest.Person{
			FirstName: "Olena", LastName: "Ivanenko",
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "CD654321"}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Phone: "+380501112233", Primary: true}},
		},
	})
	require.NoError(t, err)
	k.secret(token, "Petro", "Ivanenko", "I-AB 123456", "CD654321", "+380931234585", "+380501112233", "380501112233")
	clock.Advance(time.Minute)
	_, err = svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: token, ID: r.ID, Alias: "mother"})
	require.NoError(t, err)
	msg, ok := sms.Last("+380501112233")
	require.True(t, ok)
	code, _ := memory.CodeIn(msg.Body)
	k.secret(code)
	first, _ := sms.Last("+380931234585")
	firstCode, _ := memory.CodeIn(first.Body)
	k.secret(firstCode)
	_, err = svc.Approve(ctx, personrequest.ApproveRequest{Token: token, ID: r.ID, Code: "999999"})
	if code != "999999" {
		require.ErrorIs(t, err, otp.ErrWrongCode)
	}
	_, err = svc.Approve(ctx, personrequest.ApproveRequest{Token: token, ID: r.ID, Code: code})
	require.NoError(t, err)
	_, err = svc.Get(ctx, personrequest.GetRequest{Token: "no-such-token", ID: r.ID})
	require.Error(t, err)
}

// authMethodJourney: a 16-year-old cannot deactivate the method that goes through her
// mother; her mother can.
func authMethodJourney(t *testing.T, k *kit) {
	ctx := context.Background()
	clock := memory.NewClock(t0)
	tokens := memory.NewTokens()
	persons, methods, confidants := memory.NewPersonStore(), memory.NewAuthMethodStore(), memory.NewConfidantStore()
	svc, err := authmethod.NewService(authmethod.Deps{
		Persons: persons, Methods: methods, Confidants: confidants, Tokens: tokens, Clock: clock, Observer: k.obs,
	}, authmethod.DefaultConfig())
	require.NoError(t, err)
	for _, p := range []ports.PersonRecord{
		{ID: "olena", BirthDate: time.Date(2010, 3, 1, 0, 0, 0, 0, time.UTC), Status: "active", IsActive: true, VerificationStatus: "VERIFIED",
			Documents: []ports.PersonDocument{{Type: "BIRTH_CERTIFICATE", Number: "I-KB-000000"}}},
		{ID: "iryna", BirthDate: time.Date(1984, 9, 12, 0, 0, 0, 0, time.UTC), Status: "active", IsActive: true, VerificationStatus: "VERIFIED"},
	} {
		require.NoError(t, persons.CreatePerson(ctx, p))
	}
	require.NoError(t, confidants.AddConfidantRelationship(ctx, ports.ConfidantRelationship{
		ID: "rel-1", PersonID: "olena", ConfidantPersonID: "iryna", VerificationStatus: "VERIFIED", IsActive: true,
	}))
	for _, m := range []ports.AuthMethodRecord{
		{ID: "am-otp", PersonID: "olena", Type: authmethod.TypeOTP, Alias: "my phone", Phone: "+380671234567", StartedAt: t0.AddDate(-1, 0, 0), IsActive: true},
		{ID: "am-mother", PersonID: "olena", Type: authmethod.TypeThirdPerson, Alias: "mum", Value: "iryna", StartedAt: t0.AddDate(0, -2, 0), IsActive: true, IsPrimary: true},
	} {
		require.NoError(t, methods.AddAuthMethod(ctx, m))
	}
	for _, who := range []string{"olena", "iryna"} {
		tokens.Add("token-secret-"+who, ports.Claims{PersonID: who, Scopes: []string{authmethod.Scope, authmethod.ReadScope}, ExpiresAt: t0.Add(time.Hour)})
	}
	k.secret("token-secret-olena", "token-secret-iryna", "I-KB-000000", "+380671234567", "380671234567")
	byOlena := authmethod.DeactivateRequest{Token: "token-secret-olena", MethodID: "am-mother"}
	_, err = svc.Explain(ctx, byOlena)
	require.NoError(t, err)
	_, err = svc.Deactivate(ctx, byOlena)
	require.Error(t, err)
	_, err = svc.Deactivate(ctx, authmethod.DeactivateRequest{Token: "token-secret-iryna", PersonID: "olena", MethodID: "am-mother"})
	require.NoError(t, err)
	_, err = svc.List(ctx, authmethod.ListRequest{Token: "token-secret-olena"})
	require.NoError(t, err)
}

// profileJourney: a user asks for a reset, an operator resets the identification, the
// user updates the fields and submits.
func profileJourney(t *testing.T, k *kit) {
	ctx := context.Background()
	clock := memory.NewClock(t0)
	tokens := memory.NewTokens()
	tokens.Add("user-token-secret", ports.Claims{Subject: "user-7", ExpiresAt: t0.Add(time.Hour)})
	tokens.Add("operator-token-secret", ports.Claims{Subject: "operator-1", ExpiresAt: t0.Add(time.Hour),
		Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	profiles := memory.NewProfileStore()
	require.NoError(t, profiles.Create(ctx, ports.ProfileRecord{
		UserID: "user-7", OrganizationID: "org-eu",
		Profile: ports.Profile{
			Person:  ports.ProfilePerson{NamePlain: ports.ProfileName{First: "Maria", Last: "Garcia"}},
			Contact: ports.ProfileContact{Email: "maria@example.com"},
			Type:    "base", Status: ports.IdentificationApproved,
			Address: ports.ProfileAddress{Country: "AD", City: "Andorra la Vella", Street: "Carrer Major"},
		},
		Documents: []ports.ProfileDocument{{ID: "doc-1", Type: "PASSPORT", Status: ports.DocumentApproved, UpdatedAt: t0}},
	}))
	k.secret("user-token-secret", "operator-token-secret", "Maria", "Garcia", "maria@example.com", "Carrer Major", "Avinguda Carlemany")
	svc, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: profiles, ResetRequests: profiles.ResetRequests(), Tokens: tokens, Clock: clock, Observer: k.obs,
	}, identification.DefaultProfileConfig())
	require.NoError(t, err)
	_, err = svc.AskForReset(ctx, identification.AskForResetRequest{Token: "user-token-secret", Description: "I moved house"})
	require.NoError(t, err)
	_, err = svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{
		Token: "operator-token-secret", Filter: identification.ResetRequestFilter{Status: ports.ResetRequestPending}, PageSize: 20,
	})
	require.NoError(t, err)
	fields := []string{"address.city", "address.street"}
	_, err = svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: "operator-token-secret", UserID: "user-7", Fields: fields})
	require.NoError(t, err)
	_, err = svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: "user-token-secret", Changes: []identification.ProfileFieldChange{
		{Path: "address.city", Value: "Escaldes-Engordany"}, {Path: "address.street", Value: "Avinguda Carlemany"},
	}})
	require.NoError(t, err)
	_, err = svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: "user-token-secret"})
	require.NoError(t, err)
	_, err = svc.MyProfile(ctx, identification.MyProfileRequest{Token: "user-token-secret"})
	require.NoError(t, err)
}

// processJourney: an organisation opens a process by e-mail with a document-number second
// factor; the actor types a wrong second factor, then the right one.
func processJourney(t *testing.T, k *kit) {
	ctx := context.Background()
	clock := memory.NewClock(t0)
	email := memory.NewEmailOutbox()
	tokens := memory.NewTokens()
	tokens.Add("acme-admin-secret", ports.Claims{OrgID: "acme", Scopes: []string{otpprocess.DefaultAdminScope}, ExpiresAt: t0.Add(time.Hour)})
	tokens.Add("acme-actor-secret", ports.Claims{OrgID: "acme", Scopes: []string{otpprocess.DefaultActorScope}, ExpiresAt: t0.Add(time.Hour)})
	svc, err := otpprocess.NewService(otpprocess.Deps{
		Store: memory.NewProcessStore(), OTP: k.codes(t, clock, memory.NewSMSOutbox()), Tokens: tokens, Email: email, Clock: clock, Observer: k.obs,
	}, otpprocess.DefaultConfig())
	require.NoError(t, err)
	jane := otpprocess.Actor{
		Name: "Jane", LastName: "Doe", Email: "jane.doe@example.com", Language: "en",
		IdentityDocument: otpprocess.IdentityDocument{DocumentType: "PASSPORT", DocumentNumber: "XK 123 456", Country: "GB"},
	}
	created, err := svc.Create(ctx, otpprocess.CreateRequest{
		Token: "acme-admin-secret", OrgID: "acme", Actor: jane, ExpiresIn: "P7D",
		TwoFactorType: otpprocess.TwoFactorDocumentNumber,
		Channel:       otpprocess.Channel{Type: otpprocess.ChannelEmail},
	})
	require.NoError(t, err)
	msg, ok := email.Last(jane.Email)
	require.True(t, ok)
	code, _ := memory.CodeIn(msg.Body)
	k.secret("acme-admin-secret", "acme-actor-secret", "Jane", "Doe", "jane.doe@example.com", "XK 123 456", "XK123456", code)
	id := created.Process.ID
	_, err = svc.Validate(ctx, otpprocess.ValidateRequest{Token: "acme-actor-secret", OrgID: "acme", ID: id, Code: code, TwoFactor: "ZZ 999 999"})
	require.ErrorIs(t, err, otpprocess.ErrSecondFactorMismatch)
	_, err = svc.Validate(ctx, otpprocess.ValidateRequest{Token: "acme-actor-secret", OrgID: "acme", ID: id, Code: code, TwoFactor: "xk123456"})
	require.NoError(t, err)
	_, err = svc.Get(ctx, otpprocess.Request{Token: "acme-admin-secret", OrgID: "acme", ID: id})
	require.NoError(t, err)
	_, err = svc.List(ctx, otpprocess.ListRequest{Token: "acme-admin-secret", OrgID: "acme"})
	require.NoError(t, err)
}

// containsAny returns the first of secrets that s contains, or "".
func containsAny(s string, secrets []string) string {
	i := slices.IndexFunc(secrets, func(p string) bool { return p != "" && strings.Contains(s, p) })
	if i < 0 {
		return ""
	}
	return secrets[i]
}

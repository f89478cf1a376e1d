package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// The demo data: fixed ids and tokens, so that the README can name them.
const (
	demoOrg           = "org-demo"
	demoPersonRequest = "5d6a4a7e-1c2b-4f3d-8e9a-0b1c2d3e4f50"
	demoProcess       = "8f1e2d3c-4b5a-4697-a8b9-c0d1e2f3a4b5"
	demoUser          = "user-anna"

	tokRegistrar = "demo-registrar" // person_request:write, person_request:read
	tokOrgAdmin  = "demo-org-admin" // OTP identification admin of org-demo, may force-delete
	tokActor     = "demo-actor"     // OTP identification actor of org-demo
	tokUser      = "demo-user"      // the profile owner user-anna
	tokOperator  = "demo-operator"  // RESET_IDENTIFICATION_INITIATOR
	tokOlena     = "demo-olena"     // person olena (16), may deactivate methods
	tokIryna     = "demo-iryna"     // person iryna, olena's mother and verified confidant

	phonePetro  = "+380931234585"
	phoneOksana = "+380501112233"
	phoneAna    = "+34600111222"
)

// loadDemo stores the demo persons, requests, profiles, process and tokens, and sends the
// first codes of the demo person request and process.
func (a *app) loadDemo(ctx context.Context) error {
	now := a.clock.Now()
	valid := now.Add(30 * 24 * time.Hour)
	for token, c := range map[string]ports.Claims{
		tokRegistrar: {Subject: "registrar", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead}},
		tokOrgAdmin: {Subject: "org-admin", OrgID: demoOrg, Scopes: []string{identification.DefaultProcessScope},
			Permissions: []string{identification.DefaultForceDeletePermission}},
		tokActor:    {Subject: "actor", OrgID: demoOrg, Scopes: []string{identification.DefaultProcessActorScope}},
		tokUser:     {Subject: demoUser},
		tokOperator: {Subject: "operator", Permissions: []string{identification.PermissionResetIdentificationInitiator}},
		tokOlena:    {Subject: "olena", PersonID: "olena", Scopes: []string{authmethod.Scope, authmethod.ReadScope}},
		tokIryna:    {Subject: "iryna", PersonID: "iryna", Scopes: []string{authmethod.Scope, authmethod.ReadScope}},
	} {
		c.ExpiresAt = valid
		a.tokens.Add(token, c)
	}

	// Person request: Petro, whose primary method is his phone; his mother Oksana is his
	// THIRD_PERSON method.
	if err := stored(a.requestStore.Create(ctx, ports.PersonRequest{
		ID: demoPersonRequest, Status: personrequest.StatusNew,
		Person: personrequest.Person{
			FirstName: "Petro", LastName: "Ivanenko",
			Documents: []personrequest.Document{{Type: "BIRTH_CERTIFICATE", Number: "I-AB 123456"}},
			AuthMethods: []personrequest.AuthMethod{
				{Type: personrequest.AuthOTP, Alias: "own phone", Phone: phonePetro, Primary: true},
				{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			},
		},
		ThirdPerson: personrequest.Person{
			FirstName: "Oksana", LastName: "Ivanenko",
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "CD654321"}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Phone: phoneOksana, Primary: true}},
		},
		CreatedAt: now, UpdatedAt: now,
	})); err != nil {
		return err
	}
	// Its first code and upload URLs, as at creation.
	if _, err := a.requests.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: tokRegistrar, ID: demoPersonRequest}); tolerable(err) != nil {
		return err
	}

	// OTP identification: Ana, by SMS, with her document number as second factor.
	if err := stored(a.processStore.Create(ctx, ports.ProcessRecord{
		ID: demoProcess, OrgID: demoOrg, State: ports.ProcessStateCreated,
		Actor: ports.ProcessActor{
			Name: "Ana", LastName: "Ruiz", Email: "ana@example.com", Language: "es",
			MSISDN:           ports.ProcessPhone{CountryCode: "34", PhoneNumber: strings.TrimPrefix(phoneAna, "+34")},
			IdentityDocument: ports.ProcessDocument{DocumentType: "ID_CARD", DocumentNumber: "X1234567L", Country: "ES"},
		},
		TwoFactorType: string(identification.TwoFactorDocumentNumber), ChannelType: string(identification.ChannelSMS),
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(7 * 24 * time.Hour),
	})); err != nil {
		return err
	}
	if _, err := a.processes.Resend(ctx, identification.ProcessRequest{Token: tokOrgAdmin, OrgID: demoOrg, ID: demoProcess}); tolerable(err) != nil {
		return err
	}

	// Profile: Anna's identification is approved.
	if err := stored(a.profileStore.Create(ctx, ports.ProfileRecord{
		UserID: demoUser, OrganizationID: demoOrg,
		Profile: ports.Profile{
			Person:  ports.ProfilePerson{NamePlain: ports.ProfileName{First: "Anna", Last: "Smith"}},
			Contact: ports.ProfileContact{Email: "anna@example.com"},
			Type:    "base", Status: ports.IdentificationApproved,
			Address: ports.ProfileAddress{Country: "UA", City: "Kyiv", Street: "Khreshchatyk 1"},
		},
		Documents: []ports.ProfileDocument{{ID: "doc-1", Type: "PASSPORT", Status: ports.DocumentApproved}},
		CreatedAt: now, UpdatedAt: now,
	})); err != nil {
		return err
	}

	// Authentication methods: Olena is 16, without a legal-capacity document; her mother
	// Iryna is her verified confidant and her primary THIRD_PERSON method.
	for _, p := range []ports.PersonRecord{
		{ID: "olena", BirthDate: now.AddDate(-16, -2, 0), Documents: []ports.PersonDocument{{Type: "BIRTH_CERTIFICATE", Number: "I-KB-000000"}}},
		{ID: "iryna", BirthDate: now.AddDate(-42, -5, 0)},
	} {
		p.Status, p.IsActive, p.VerificationStatus = authmethod.PersonStatusActive, true, authmethod.StatusVerified
		if err := stored(a.persons.CreatePerson(ctx, p)); err != nil {
			return err
		}
	}
	if err := stored(a.confidants.AddConfidantRelationship(ctx, ports.ConfidantRelationship{
		ID: "rel-olena-iryna", PersonID: "olena", ConfidantPersonID: "iryna", VerificationStatus: authmethod.StatusVerified, IsActive: true,
	})); err != nil {
		return err
	}
	for _, m := range []ports.AuthMethodRecord{
		{ID: "am-olena-otp", PersonID: "olena", Type: authmethod.TypeOTP, Alias: "my phone", Phone: "+380671234567", StartedAt: now.AddDate(-1, 0, 0), IsActive: true},
		{ID: "am-olena-mother", PersonID: "olena", Type: authmethod.TypeThirdPerson, Alias: "mum", Value: "iryna", StartedAt: now.AddDate(0, -2, 0), IsActive: true, IsPrimary: true},
	} {
		if err := stored(a.methods.AddAuthMethod(ctx, m)); err != nil {
			return err
		}
	}
	return nil
}

// stored drops the error of a demo record that is already stored: a restart on a
// PostgreSQL schema keeps the demo data of the previous run, as that run left it.
func stored(err error) error {
	for _, exists := range []error{
		ports.ErrPersonRequestExists, ports.ErrProcessExists, ports.ErrProfileExists,
		ports.ErrPersonExists, ports.ErrAuthMethodExists, ports.ErrConfidantRelationshipExists,
	} {
		if errors.Is(err, exists) {
			return nil
		}
	}
	return err
}

// tolerable drops the errors of a first code that cannot be sent because of an earlier run
// on the same PostgreSQL schema: the send limits still count its sends (429), or its flow
// went on (409) or its request expired (404). The demo then goes on from where it was.
func tolerable(err error) error {
	if errors.Is(err, verifykit.ErrRateLimited) || errors.Is(err, verifykit.ErrConflict) || errors.Is(err, verifykit.ErrNotFound) {
		return nil
	}
	return err
}

// printBanner writes the demo data and ready-to-paste curl lines.
func (a *app) printBanner(w io.Writer, base string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	curl := func(method, token, path, body string) {
		line := "  curl -s"
		if method != "GET" {
			line += " -X " + method
		}
		if token != "" {
			line += " -H 'Authorization: Bearer " + token + "'"
		}
		if body != "" {
			line += " -H 'Content-Type: application/json' -d '" + body + "'"
		}
		p("%s %s%s", line, base, path)
	}
	p("verifykit demo server on %s", base)
	p("storage: %s", a.storage)
	p("")
	if jt, ok := a.tokens.(*jwtTokens); ok && !jt.dev {
		p("Access tokens: JWTs verified against -jwks-url; the demo tokens below work with -dev only.")
	}
	p("Demo tokens:")
	p("  %-16s person requests (person_request:write, person_request:read)", tokRegistrar)
	p("  %-16s OTP identification admin of %s (may force-delete)", tokOrgAdmin, demoOrg)
	p("  %-16s OTP identification actor of %s", tokActor, demoOrg)
	p("  %-16s the profile owner %s", tokUser, demoUser)
	p("  %-16s profile operator (RESET_IDENTIFICATION_INITIATOR)", tokOperator)
	p("  %-16s person olena, 16 (authentication_method_request:deactivate_pis, authentication_method:read_pis)", tokOlena)
	p("  %-16s person iryna, olena's mother and verified confidant (same scopes)", tokIryna)
	p("")
	p("1. Person request %s (Petro; SMS to %s, mother Oksana %s):", demoPersonRequest, ports.MaskPhone(phonePetro), ports.MaskPhone(phoneOksana))
	curl("GET", tokRegistrar, "/api/person_requests/"+demoPersonRequest, "")
	curl("POST", tokRegistrar, "/api/person_requests/"+demoPersonRequest+"/actions/resend_auth_method", `{"alias":"mother"}`)
	curl("PATCH", tokRegistrar, "/api/person_requests/"+demoPersonRequest+"/actions/approve", `{"verification_code":"<code>"}`)
	p("2. Authentication method am-olena-mother of olena:")
	curl("POST", tokOlena, "/api/pis/authentication_methods/am-olena-mother/actions/deactivate/explain", "")
	curl("PATCH", tokIryna, "/api/pis/authentication_methods/am-olena-mother/actions/deactivate", `{"person_id":"olena"}`)
	curl("GET", tokIryna, "/api/pis/authentication_methods?person_id=olena", "")
	p("3. Profile of %s:", demoUser)
	curl("POST", tokUser, "/api/v1/profiles/my/reset-identification", `{"description":"I moved"}`)
	curl("POST", tokOperator, "/api/v1/profiles/"+demoUser+"/reset", `{"fields":["address.city"]}`)
	curl("PATCH", tokUser, "/api/v1/profiles/my", `{"changes":[{"path":"address.city","value":"Lviv"}]}`)
	curl("POST", tokUser, "/api/v1/profiles/my/submit-identification", "")
	p("4. OTP identification %s of %s (Ana; SMS to %s, second factor: her document number):", demoProcess, demoOrg, ports.MaskPhone(phoneAna))
	curl("GET", tokActor, "/v1/orgs/"+demoOrg+"/identifications/otp/"+demoProcess, "")
	curl("PUT", tokActor, "/v1/orgs/"+demoOrg+"/identifications/otp/"+demoProcess+"/validate", `{"code":"<code>","two_factor":"X1234567L"}`)
	if a.dev {
		p("The codes (-dev):")
		curl("GET", "", "/dev/sms", "")
	} else {
		p("Run with -dev to read the codes at %s/dev/sms.", base)
	}
	p("Operator console: %s%s (sign in with %s)", base, consolePath, tokConsole)
	p("OpenAPI document: %s/openapi.json", base)
}

package personrequest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

func TestNewServiceChecksDepsAndConfig(t *testing.T) {
	_, err := personrequest.NewService(personrequest.Deps{}, personrequest.DefaultConfig())
	requireEntries(t, err, "Store required", "OTP required", "Tokens required", "Uploads required")

	_, err = personrequest.NewService(personrequest.Deps{}, personrequest.Config{})
	requireEntries(t, err, "Purpose required", "LifetimeDays positive", "CodeTTL positive",
		"CodeMaxAttempts positive", "CodeDigits range", "UploadURLTTL positive")
	require.NoError(t, personrequest.DefaultConfig().Validate())
}

func TestCreate(t *testing.T) {
	t.Run("OTP primary", func(t *testing.T) {
		k := newKit(t)
		r := k.create(t, person(), thirdPerson())
		require.Equal(t, personrequest.StatusNew, r.Status)
		require.NotEmpty(t, r.ID)
		require.Equal(t, "mobile", r.CurrentAuthMethod.Alias)
		require.Equal(t, "+38093*****85", r.Urgent.AuthenticationMethodCurrent.PhoneNumber)
		require.Len(t, r.Urgent.AuthenticationMethods, 5)
		require.Len(t, k.sms.Messages(), 1)
		code := k.lastCode(t, phonePerson)
		require.Len(t, code, 6)
		for _, d := range r.Urgent.Documents {
			target, err := k.signer.Check(d.URL, k.clock.Now())
			require.NoError(t, err)
			require.Equal(t, 1, target.Version)
			ok, err := k.svc.UploadURLValid(k.ctx, r.ID, d.URL)
			require.NoError(t, err)
			require.True(t, ok)
		}
		c := k.code(t, r.ID)
		require.Equal(t, ports.CodeActive, c.State, "the first code is stored with the request")
		require.Equal(t, 3, c.MaxAttempts, "eHealth: 3 attempts")
		require.Equal(t, 15*time.Minute, c.ExpiresAt.Sub(c.CreatedAt), "eHealth: 15 minutes")
	})
	t.Run("THIRD_PERSON primary", func(t *testing.T) {
		k := newKit(t)
		r := k.create(t, withPrimary(person(), 2), thirdPerson())
		require.Equal(t, personrequest.AuthThirdPerson, r.CurrentAuthMethod.Type)
		msgs := k.sms.Messages()
		require.Len(t, msgs, 1)
		require.Equal(t, phoneThird, msgs[0].To)
	})
	t.Run("OFFLINE primary sends nothing", func(t *testing.T) {
		k := newKit(t)
		r := k.create(t, offlinePerson(), personrequest.Person{})
		require.Empty(t, k.sms.Attempts())
		require.Equal(t, []string{"person.PASSPORT", "person.TAX_ID"}, []string{r.Urgent.Documents[0].Type, r.Urgent.Documents[1].Type})
	})
	t.Run("a failed SMS stores nothing", func(t *testing.T) {
		k := newKit(t)
		k.sms.FailNext(1, true)
		_, err := k.svc.Create(k.ctx, personrequest.CreateRequest{Token: tokWriter, Person: person(), ThirdPerson: thirdPerson()})
		require.ErrorIs(t, err, verifykit.ErrUnavailable)
		ids, err := k.store.ListCreatedBefore(k.ctx, []personrequest.Status{personrequest.StatusNew}, k.clock.Now().Add(time.Hour), 10)
		require.NoError(t, err)
		require.Empty(t, ids)
	})
	t.Run("token", func(t *testing.T) {
		k := newKit(t)
		for tok, want := range map[string]struct {
			kind verifykit.Kind
			msg  string
		}{
			"":         {verifykit.KindUnauthorized, "Invalid access token"},
			"bogus":    {verifykit.KindUnauthorized, "Invalid access token"},
			tokExpired: {verifykit.KindUnauthorized, "Invalid access token"},
			tokReader:  {verifykit.KindForbidden, msgMissingWrite},
		} {
			// The token is checked before the (invalid) input.
			_, err := k.svc.Create(k.ctx, personrequest.CreateRequest{Token: tok})
			requireErr(t, err, want.kind, want.msg)
		}
	})
}

func TestCreateValidation(t *testing.T) {
	otpMethod := func(alias, phone string, primary bool) personrequest.AuthMethod {
		return personrequest.AuthMethod{Type: personrequest.AuthOTP, Alias: alias, Phone: phone, Primary: primary}
	}
	cases := []struct {
		name   string
		change func(p, third *personrequest.Person)
		want   []string
	}{
		{"no method", func(p, _ *personrequest.Person) { p.AuthMethods = nil },
			[]string{"$.person.authentication_methods length", "$.third_person absence"}},
		{"no primary", func(p, _ *personrequest.Person) { p.AuthMethods[0].Primary = false },
			[]string{"$.person.authentication_methods primary"}},
		{"two primaries", func(p, _ *personrequest.Person) { p.AuthMethods[1].Primary = true },
			[]string{"$.person.authentication_methods primary"}},
		{"duplicate alias", func(p, _ *personrequest.Person) { p.AuthMethods[3].Alias = "mobile" },
			[]string{"$.person.authentication_methods[3].alias uniqueness"}},
		{"phone not E.164", func(p, _ *personrequest.Person) { p.AuthMethods[0].Phone = "0931234585" },
			[]string{"$.person.authentication_methods[0].phone_number format"}},
		{"phone too long", func(p, _ *personrequest.Person) { p.AuthMethods[3].Phone = "+3809312345851234" },
			[]string{"$.person.authentication_methods[3].phone_number format"}},
		{"phone with letters", func(p, _ *personrequest.Person) { p.AuthMethods[3].Phone = "+38093123458a" },
			[]string{"$.person.authentication_methods[3].phone_number format"}},
		{"impossible phone", func(p, _ *personrequest.Person) { p.AuthMethods[3].Phone = "+12345" },
			[]string{"$.person.authentication_methods[3].phone_number format"}},
		{"phone with non-ASCII digits", func(p, _ *personrequest.Person) { p.AuthMethods[3].Phone = "+38093123458５" },
			[]string{"$.person.authentication_methods[3].phone_number format"}},
		{"OTP without phone", func(p, _ *personrequest.Person) { p.AuthMethods[0].Phone = "" },
			[]string{"$.person.authentication_methods[0].phone_number required"}},
		{"phone on OFFLINE", func(p, _ *personrequest.Person) { p.AuthMethods[1].Phone = phoneOther },
			[]string{"$.person.authentication_methods[1].phone_number absence"}},
		{"unknown type", func(p, _ *personrequest.Person) { p.AuthMethods[1].Type = "EMAIL" },
			[]string{"$.person.authentication_methods[1].type inclusion"}},
		{"THIRD_PERSON without third person", func(_, third *personrequest.Person) { *third = personrequest.Person{} },
			[]string{"$.third_person required"}},
		{"third person without methods", func(_, third *personrequest.Person) { third.AuthMethods = nil },
			[]string{"$.third_person.authentication_methods length"}},
		{"third person's bad phone and second primary", func(_, third *personrequest.Person) {
			third.AuthMethods = append(third.AuthMethods, otpMethod("x", "+1", true))
		}, []string{"$.third_person.authentication_methods[1].phone_number format", "$.third_person.authentication_methods primary"}},
		{"third person with THIRD_PERSON", func(_, third *personrequest.Person) {
			third.AuthMethods = append(third.AuthMethods, personrequest.AuthMethod{Type: personrequest.AuthThirdPerson})
		}, []string{"$.third_person.authentication_methods[1].type inclusion"}},
		{"third person without THIRD_PERSON method", func(p, _ *personrequest.Person) {
			p.AuthMethods = p.AuthMethods[:2]
		}, []string{"$.third_person absence"}},
		{"names and documents", func(p, _ *personrequest.Person) {
			p.FirstName, p.LastName = "", " "
			p.Documents = append(p.Documents, personrequest.Document{Type: "PASSPORT", Number: "X1"}, personrequest.Document{})
		}, []string{"$.person.first_name required", "$.person.last_name required",
			"$.person.documents[2].type uniqueness", "$.person.documents[3].type required", "$.person.documents[3].number required"}},
		{"every problem at once", func(p, third *personrequest.Person) {
			p.FirstName = ""
			p.AuthMethods[0].Phone = "123"
			p.AuthMethods[1].Primary = true
			p.AuthMethods[3].Alias = "documents"
			third.LastName = ""
		}, []string{"$.person.first_name required", "$.person.authentication_methods[0].phone_number format",
			"$.person.authentication_methods[3].alias uniqueness", "$.person.authentication_methods primary",
			"$.third_person.last_name required"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t)
			p, third := person(), thirdPerson()
			tc.change(&p, &third)
			_, err := k.svc.Create(k.ctx, personrequest.CreateRequest{Token: tokWriter, Person: p, ThirdPerson: third})
			requireEntries(t, err, tc.want...)
			require.Empty(t, k.sms.Attempts(), "bad input sends nothing")
			require.Zero(t, k.signer.Signed(), "bad input signs nothing")
		})
	}
}

func TestCreateDoesNotAliasInput(t *testing.T) {
	k := newKit(t)
	p := person()
	r := k.create(t, p, thirdPerson())
	p.AuthMethods[0].Phone = "+380000000000"
	require.Equal(t, phonePerson, k.get(t, r.ID).Person.AuthMethods[0].Phone)
}

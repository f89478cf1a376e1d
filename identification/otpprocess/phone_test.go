package otpprocess_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/ports"
)

// TestCreatePhoneNumbers: a process takes only phone numbers valid in their country's
// numbering plan, by the check person requests use (ports.ParsePhone), stores them in E.164
// form, and shows the actor at most a masked number.
func TestCreatePhoneNumbers(t *testing.T) {
	e := newEnv(t)
	const (
		ccEntry = "$.actor.msisdn.country_code"
		pnEntry = "$.actor.msisdn.phone_number"
		ccDesc  = "must be a country calling code of 1 to 3 digits"
		pnDesc  = "must be digits, 8 to 15 with the country code"
	)
	type entry struct{ entry, rule, desc string }
	cases := []struct {
		name   string
		msisdn ports.ProcessPhone
		e164   string // stored, when accepted
		masked string // what the actor sees, when accepted
		want   []entry
	}{
		{name: "country code 1 and 2345", msisdn: ports.ProcessPhone{CountryCode: "1", PhoneNumber: "2345"},
			want: []entry{{pnEntry, "format", pnDesc}}},
		{name: "7 digits in all", msisdn: ports.ProcessPhone{CountryCode: "34", PhoneNumber: "60011"},
			want: []entry{{pnEntry, "format", pnDesc}}},
		{name: "16 digits in all", msisdn: ports.ProcessPhone{CountryCode: "380", PhoneNumber: "9312345851234"},
			want: []entry{{pnEntry, "format", pnDesc}}},
		{name: "non-ASCII digits", msisdn: ports.ProcessPhone{CountryCode: "380", PhoneNumber: "93123458５"},
			want: []entry{{pnEntry, "format", pnDesc}}},
		{name: "no national number", msisdn: ports.ProcessPhone{CountryCode: "34"},
			want: []entry{{pnEntry, "format", pnDesc}}},
		{name: "no country code", msisdn: ports.ProcessPhone{PhoneNumber: "600111222"},
			want: []entry{{ccEntry, "format", ccDesc}}},
		{name: "a country code of 4 digits", msisdn: ports.ProcessPhone{CountryCode: "3801", PhoneNumber: "12x"},
			want: []entry{{ccEntry, "format", ccDesc}, {pnEntry, "format", pnDesc}}},
		{name: "8 digits in all, no such number", msisdn: ports.ProcessPhone{CountryCode: "+1", PhoneNumber: "234 5678"},
			want: []entry{{pnEntry, "format", "must be a valid phone number of country code +1"}}},
		{name: "15 digits in all, no such number", msisdn: ports.ProcessPhone{CountryCode: "380", PhoneNumber: "931234585123"},
			want: []entry{{pnEntry, "format", "must be a valid phone number of country code +380"}}},
		{name: "US", msisdn: ports.ProcessPhone{CountryCode: "+1", PhoneNumber: "(202) 555-0143"},
			e164: "+12025550143", masked: "+1202*****43"},
		{name: "national trunk prefix", msisdn: ports.ProcessPhone{CountryCode: "380", PhoneNumber: "093 123 45 85"},
			e164: "+380931234585", masked: "+38093*****85"},
		{name: "Spain", msisdn: ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600 111 222"},
			e164: "+34600111222", masked: "+3460*****22"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a := e.actor()
			a.MSISDN = tc.msisdn
			res, err := e.svc.Create(ctx, otpprocess.CreateRequest{
				Token: tokAdminA, OrgID: "org-a", Actor: a, Channel: otpprocess.Channel{Type: otpprocess.ChannelSMS, External: true},
			})
			if tc.want != nil {
				requireKind(t, err, verifykit.KindInvalidInput, "Validation failed.")
				var got []entry
				for _, in := range err.(*verifykit.Error).Invalid {
					got = append(got, entry{in.Entry, in.Rule, in.Description})
				}
				require.Equal(t, tc.want, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.e164, res.Process.Actor.MSISDN.E164())
			require.True(t, ports.ValidE164(tc.e164))
			md, err := e.svc.Metadata(ctx, otpprocess.Request{Token: tokActorA, OrgID: "org-a", ID: res.Process.ID})
			require.NoError(t, err)
			require.Equal(t, tc.masked, md.MaskedContact)
		})
	}
}

// TestMetadataMasksByKind: the actor sees the contact of the channel masked by its kind.
func TestMetadataMasksByKind(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		ch    otpprocess.ChannelType
		phone string // national number, country code 34
		email string
		want  string
	}{
		{ch: otpprocess.ChannelSMS, phone: "600111222", want: "+3460*****22"},
		{ch: otpprocess.ChannelWhatsApp, phone: "600111333", want: "+3460*****33"},
		{ch: otpprocess.ChannelEmail, email: "jane.doe@example.com", want: "j***@e***.com"},
		{ch: otpprocess.ChannelEmail, email: "олена@приклад.укр", want: "о***@п***.укр"},
	}
	for _, tc := range cases {
		t.Run(string(tc.ch)+" "+tc.phone+tc.email, func(t *testing.T) {
			ctx := context.Background()
			a := e.actor()
			if tc.phone != "" {
				a.MSISDN = ports.ProcessPhone{CountryCode: "34", PhoneNumber: tc.phone}
			}
			if tc.email != "" {
				a.Email = tc.email
			}
			res, err := e.svc.Create(ctx, otpprocess.CreateRequest{
				Token: tokAdminA, OrgID: "org-a", Actor: a, Channel: otpprocess.Channel{Type: tc.ch, External: true},
			})
			require.NoError(t, err)
			md, err := e.svc.Metadata(ctx, otpprocess.Request{Token: tokActorA, OrgID: "org-a", ID: res.Process.ID})
			require.NoError(t, err)
			require.Equal(t, tc.want, md.MaskedContact)
		})
	}
}

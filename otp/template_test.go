package otp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
)

// withTemplates turns the shipped templates on, as ServiceName "Diia".
func withTemplates(c *otp.Config) {
	c.Message = nil
	c.Templates = &otp.Templates{ServiceName: "Diia"}
}

func TestTemplatesRenderEachLocale(t *testing.T) {
	e := newEnv(t, withTemplates)
	cases := []struct {
		locale string
		want   string
	}{
		{"en", "123456 is your Diia verification code. It expires in 10 min.\nDo not share this code with anyone."},
		{"uk", "123456 — ваш код підтвердження Diia. Дійсний 10 хв.\nНікому не повідомляйте цей код."},
		{"es", "123456 es tu codigo de verificacion de Diia. Caduca en 10 min.\nNo compartas este codigo con nadie."},
		{"uk-UA", "123456 — ваш код підтвердження Diia. Дійсний 10 хв.\nНікому не повідомляйте цей код."},
		{"ES_mx", "123456 es tu codigo de verificacion de Diia. Caduca en 10 min.\nNo compartas este codigo con nadie."},
		{"de-DE", "123456 is your Diia verification code. It expires in 10 min.\nDo not share this code with anyone."},
		{"", "123456 is your Diia verification code. It expires in 10 min.\nDo not share this code with anyone."},
	}
	for _, tc := range cases {
		t.Run(tc.locale, func(t *testing.T) {
			got, err := e.svc.RenderMessage(otp.IssueRequest{Locale: tc.locale}, "123456")
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTemplatesFallBackToTheDefaultLocale(t *testing.T) {
	e := newEnv(t, func(c *otp.Config) {
		c.Message = nil
		c.Templates = &otp.Templates{DefaultLocale: "uk", Texts: map[string]string{
			"uk":    "Код {{.Code}}. Нікому його не кажіть.",
			"en":    "Code {{.Code}}. Do not share it.",
			"pt-BR": "Codigo {{.Code}}. Nao compartilhe.",
		}}
	})
	cases := []struct{ locale, want string }{
		{"pt-BR", "Codigo 1234. Nao compartilhe."},
		{"pt", "Код 1234. Нікому його не кажіть."},
		{"en-GB", "Code 1234. Do not share it."},
		{"fr-CA", "Код 1234. Нікому його не кажіть."},
		{"", "Код 1234. Нікому його не кажіть."},
	}
	for _, tc := range cases {
		t.Run(tc.locale, func(t *testing.T) {
			got, err := e.svc.RenderMessage(otp.IssueRequest{Locale: tc.locale}, "1234")
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestIssueSendsTheLocalisedTemplate(t *testing.T) {
	e := newEnv(t, withTemplates)
	_, err := e.svc.Issue(context.Background(), otp.IssueRequest{
		Purpose: "payment", Subject: "p-1", Recipient: phone, Locale: "uk-UA",
		Details: map[string]string{"сума": "100.00 EUR"},
	})
	require.NoError(t, err)
	msg, ok := e.sms.Last(phone)
	require.True(t, ok)
	require.Contains(t, msg.Body, "ваш код підтвердження Diia. Дійсний 10 хв. сума: 100.00 EUR.\nНікому не повідомляйте цей код.")
	code := e.codeOf(t, phone)
	require.True(t, strings.HasPrefix(msg.Body, code+" — "))
}

func TestRequestMessageWinsOverTemplates(t *testing.T) {
	e := newEnv(t, withTemplates)
	got, err := e.svc.RenderMessage(otp.IssueRequest{Locale: "uk",
		Message: func(code string, _ time.Duration) string { return "own " + code }}, "123456")
	require.NoError(t, err)
	require.Equal(t, "own 123456", got)
	// Without templates, Config.Message renders as before.
	plain := newEnv(t)
	got, err = plain.svc.RenderMessage(otp.IssueRequest{Locale: "uk"}, "123456")
	require.NoError(t, err)
	require.Equal(t, otp.DefaultMessage("123456", 10*time.Minute), got)
}

func TestBadTemplatesAreRefusedAtConstruction(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*otp.Templates)
		entry string
		rule  string
	}{
		{"no code", func(t *otp.Templates) { t.Texts = map[string]string{"en": "Your code is ready."} }, "Templates.Texts[en]", "code_once"},
		{"code twice", func(t *otp.Templates) { t.Texts = map[string]string{"en": "{{.Code}} is your code: {{.Code}}"} }, "Templates.Texts[en]", "code_once"},
		{"code twice in one locale of two", func(t *otp.Templates) {
			t.Texts = map[string]string{"en": "Code {{.Code}}", "uk": "Код {{.Code}} ({{.Code}})"}
		}, "Templates.Texts[uk]", "code_once"},
		{"does not parse", func(t *otp.Templates) { t.Texts = map[string]string{"en": "{{.Code"} }, "Templates.Texts[en]", "parse"},
		{"unknown field", func(t *otp.Templates) { t.Texts = map[string]string{"en": "{{.Code}} {{.Nope}}"} }, "Templates.Texts[en]", "render"},
		{"over the segment limit", func(t *otp.Templates) {
			t.MaxSegments = 1
			t.Texts = map[string]string{"en": "{{.Code}} " + strings.Repeat("x", 160)}
		}, "Templates.Texts[en]", "segments"},
		{"Cyrillic over one segment", func(t *otp.Templates) { t.MaxSegments = 1 }, "Templates.Texts[uk]", "segments"},
		{"no default locale", func(t *otp.Templates) { t.DefaultLocale = "fr" }, "Templates.DefaultLocale", "inclusion"},
		{"negative limit", func(t *otp.Templates) { t.MaxSegments = -1 }, "Templates.MaxSegments", "positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Message = nil
			cfg.Templates = &otp.Templates{}
			tc.edit(cfg.Templates)
			svc, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter()}, cfg)
			require.Nil(t, svc)
			requireConfigEntry(t, err, tc.entry, tc.rule)
		})
	}
}

func TestAutofillLines(t *testing.T) {
	cases := []struct {
		name           string
		domain, hash   string
		wantSuffix     string
		wantLastLine   string
		wantLinesAdded int
	}{
		{"WebOTP", "example.com", "", "\n\n@example.com #123456", "@example.com #123456", 2},
		{"app hash", "", "FA+9qCX9VSu", "\nFA+9qCX9VSu", "FA+9qCX9VSu", 1},
		{"both: the hash ends the WebOTP line", "id.example.com", "FA+9qCX9VSu", "\n\n@id.example.com #123456 FA+9qCX9VSu", "@id.example.com #123456 FA+9qCX9VSu", 2},
		{"none", "", "", "Do not share this code with anyone.", "Do not share this code with anyone.", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, withTemplates, func(c *otp.Config) { c.WebOTPDomain, c.AppHash = tc.domain, tc.hash })
			got, err := e.svc.RenderMessage(otp.IssueRequest{Locale: "en"}, "123456")
			require.NoError(t, err)
			require.True(t, strings.HasSuffix(got, tc.wantSuffix), got)
			lines := strings.Split(got, "\n")
			require.Equal(t, tc.wantLastLine, lines[len(lines)-1])
			require.Len(t, lines, 2+tc.wantLinesAdded)
			require.Equal(t, 1, strings.Count(strings.Join(lines[:2], "\n"), "123456"), "the body shows the code once")
		})
	}
	// Config.Message gets the same lines.
	e := newEnv(t, func(c *otp.Config) { c.WebOTPDomain = "example.com" })
	_, err := e.svc.Issue(context.Background(), otp.IssueRequest{Purpose: "login", Subject: "u", Recipient: phone})
	require.NoError(t, err)
	code := e.codeOf(t, phone)
	msg, _ := e.sms.Last(phone)
	require.Equal(t, otp.DefaultMessage(code, 10*time.Minute)+"\n\n@example.com #"+code, msg.Body)
}

func TestAutofillConfigIsValidated(t *testing.T) {
	cases := []struct {
		name         string
		domain, hash string
		entry        string
	}{
		{"scheme", "https://example.com", "", "WebOTPDomain"},
		{"port", "example.com:443", "", "WebOTPDomain"},
		{"path", "example.com/otp", "", "WebOTPDomain"},
		{"empty label", "example..com", "", "WebOTPDomain"},
		{"hyphen edge", "-example.com", "", "WebOTPDomain"},
		{"hash too short", "", "FA+9qCX9VS", "AppHash"},
		{"hash too long", "", "FA+9qCX9VSuu", "AppHash"},
		{"hash bad character", "", "FA+9qCX9VS=", "AppHash"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.WebOTPDomain, cfg.AppHash = tc.domain, tc.hash
			_, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), Limiter: memory.NewRateLimiter()}, cfg)
			requireConfigEntry(t, err, tc.entry, "format")
		})
	}
}

// requireConfigEntry checks that err is a KindInvalidInput *verifykit.Error with an entry
// named entry, of rule rule, among others.
func requireConfigEntry(t *testing.T, err error, entry, rule string) {
	t.Helper()
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	for _, in := range ve.Invalid {
		if in.Entry == entry {
			require.Equal(t, rule, in.Rule, in.Description)
			return
		}
	}
	require.Failf(t, "entry missing", "no entry %q in %+v", entry, ve.Invalid)
}

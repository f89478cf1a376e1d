package otp

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"time"
)

// The message texts shipped with the engine, as text/template sources over MessageData:
// Ukrainian, English and Spanish. The Spanish text leaves accents out on purpose, so that it
// stays in GSM-7 (one accented "ó" would make the whole SMS UCS-2, halving its length).
const (
	TemplateEN = "{{.Code}} is your {{with .Service}}{{.}} {{end}}verification code. " +
		"It expires in {{.Minutes}} min.{{range $k, $v := .Details}} {{$k}}: {{$v}}.{{end}}\n" +
		"Do not share this code with anyone."
	TemplateUK = "{{.Code}} — ваш код підтвердження{{with .Service}} {{.}}{{end}}. " +
		"Дійсний {{.Minutes}} хв.{{range $k, $v := .Details}} {{$k}}: {{$v}}.{{end}}\n" +
		"Нікому не повідомляйте цей код."
	TemplateES = "{{.Code}} es tu codigo de verificacion{{with .Service}} de {{.}}{{end}}. " +
		"Caduca en {{.Minutes}} min.{{range $k, $v := .Details}} {{$k}}: {{$v}}.{{end}}\n" +
		"No compartas este codigo con nadie."
)

// DefaultLocale is the locale a message falls back to when neither the person's locale
// nor any shorter form of it has a template.
const DefaultLocale = "en"

// DefaultMaxSegments is the most SMS segments a template may render to when
// Templates.MaxSegments is zero.
const DefaultMaxSegments = 3

// DefaultTemplateTexts returns the shipped texts by locale ("en", "uk", "es"), a new map on
// every call.
func DefaultTemplateTexts() map[string]string {
	return map[string]string{"en": TemplateEN, "uk": TemplateUK, "es": TemplateES}
}

// Templates render messages per locale with text/template. NewService parses every text,
// renders it with a sample code, and refuses it (a KindInvalidInput error naming
// "Templates.Texts[<locale>]") when it does not show the code exactly once or when the
// SMS it renders to, autofill lines included, takes more than MaxSegments segments
// (CountSMS). The sample has Config.Digits digits, Config.TTL and no Details.
type Templates struct {
	// Texts are the template sources by locale (a BCP 47 tag such as "uk" or "pt-BR";
	// case and "_" or "-" do not matter), each over MessageData. Default (nil): the shipped
	// texts, DefaultTemplateTexts. A map given replaces them all.
	Texts map[string]string
	// DefaultLocale is the locale used when the person's has no template, "en" when empty.
	// Texts must have it.
	DefaultLocale string
	// ServiceName is the service's friendly name, shown in the message (MessageData.Service).
	ServiceName string
	// MaxSegments is the most SMS segments a rendered template may take. Default (zero):
	// DefaultMaxSegments.
	MaxSegments int
}

// MessageData is what a template renders.
type MessageData struct {
	// Code is the one-time code. A template must show it exactly once.
	Code string
	// Minutes is the code's lifetime in whole minutes (at least 1).
	Minutes int
	// Service is Templates.ServiceName.
	Service string
	// Details are the values the code confirms, for the person to check (IssueRequest.Details):
	// an amount, a payee. text/template ranges over them in key order.
	Details map[string]string
}

// sampleCode is the code templates are checked with: its first Digits digits.
const sampleCode = "4096815273"

// messages renders the messages of one Service: its parsed templates (nil when
// Config.Templates is nil) and autofill lines.
type messages struct {
	byLocale   map[string]*template.Template
	defLocale  string
	service    string
	webOTP     string
	appHash    string
	maxSegment int
}

// newMessages parses the templates of cfg; problems are reported to bad, by field.
func newMessages(cfg Config, bad func(field, rule, desc string)) *messages {
	m := &messages{webOTP: cfg.WebOTPDomain, appHash: cfg.AppHash}
	if cfg.WebOTPDomain != "" && !validHost(cfg.WebOTPDomain) {
		bad("WebOTPDomain", "format", "must be a host name such as example.com, without scheme, port or path")
	}
	if cfg.AppHash != "" && !validAppHash(cfg.AppHash) {
		bad("AppHash", "format", "must be the 11-character app hash of the SMS Retriever API ([A-Za-z0-9+/])")
	}
	t := cfg.Templates
	if t == nil {
		return m
	}
	texts := t.Texts
	if texts == nil {
		texts = DefaultTemplateTexts()
	}
	m.defLocale = normalizeLocale(t.DefaultLocale)
	if m.defLocale == "" {
		m.defLocale = DefaultLocale
	}
	m.service, m.maxSegment = t.ServiceName, t.MaxSegments
	if m.maxSegment == 0 {
		m.maxSegment = DefaultMaxSegments
	}
	if t.MaxSegments < 0 {
		bad("Templates.MaxSegments", "positive", "must not be negative")
	}
	m.byLocale = make(map[string]*template.Template, len(texts))
	digits := cfg.Digits
	if digits < MinDigits || digits > MaxDigits {
		digits = 6 // reported as Digits already
	}
	code := sampleCode[:digits]
	for _, locale := range slices.Sorted(maps.Keys(texts)) {
		field := "Templates.Texts[" + locale + "]"
		key := normalizeLocale(locale)
		if key == "" {
			bad(field, "format", "the locale must not be empty")
			continue
		}
		tmpl, err := template.New(key).Option("missingkey=zero").Parse(texts[locale])
		if err != nil {
			bad(field, "parse", "is not a valid text/template: "+err.Error())
			continue
		}
		m.byLocale[key] = tmpl
		body, err := m.execute(tmpl, code, cfg.TTL, nil)
		if err != nil {
			bad(field, "render", "does not render: "+err.Error())
			continue
		}
		if n := strings.Count(body, code); n != 1 {
			bad(field, "code_once", fmt.Sprintf("must show the code ({{.Code}}) exactly once, shows it %d times", n))
			continue
		}
		if l := CountSMS(m.autofill(body, code)); l.Segments > m.maxSegment {
			bad(field, "segments", fmt.Sprintf("renders to %d %s SMS segments (%d units, autofill lines included), more than the %d allowed",
				l.Segments, l.Encoding, l.Units, m.maxSegment))
		}
	}
	if _, ok := m.byLocale[m.defLocale]; !ok && len(m.byLocale) > 0 {
		bad("Templates.DefaultLocale", "inclusion", "Templates.Texts has no template for the locale "+m.defLocale)
	}
	return m
}

// execute renders tmpl for code and ttl.
func (m *messages) execute(tmpl *template.Template, code string, ttl time.Duration, details map[string]string) (string, error) {
	var b strings.Builder
	err := tmpl.Execute(&b, MessageData{Code: code, Minutes: max(int(ttl/time.Minute), 1), Service: m.service, Details: details})
	return b.String(), err
}

// template returns the template for locale: the locale, then each shorter form of it
// ("uk-UA" then "uk"), then the default locale.
func (m *messages) template(locale string) *template.Template {
	for l := normalizeLocale(locale); l != ""; {
		if t, ok := m.byLocale[l]; ok {
			return t
		}
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	return m.byLocale[m.defLocale]
}

// autofill appends the autofill lines to body: the SMS Retriever app hash, and the WebOTP
// line ("@host #code") as the last line. With both, the hash ends the WebOTP line, so that
// it still ends the message: "@example.com #123456 FA+9qCX9VSu".
func (m *messages) autofill(body, code string) string {
	switch {
	case m.webOTP != "" && m.appHash != "":
		return body + "\n\n@" + m.webOTP + " #" + code + " " + m.appHash
	case m.webOTP != "":
		return body + "\n\n@" + m.webOTP + " #" + code
	case m.appHash != "":
		return body + "\n" + m.appHash
	}
	return body
}

// render is the one place a message body is rendered: the request's Message when set,
// else the templates for req.Locale when Config.Templates is set, else Config.Message;
// then the autofill lines.
func (s *Service) render(req IssueRequest, code string) (string, error) {
	ttl := s.ttl(req)
	var body string
	switch {
	case req.Message != nil:
		body = req.Message(code, ttl)
	case s.msgs.byLocale != nil:
		b, err := s.msgs.execute(s.msgs.template(req.Locale), code, ttl, req.Details)
		if err != nil {
			return "", err
		}
		body = b
	default:
		body = s.cfg.Message(code, ttl)
	}
	return s.msgs.autofill(body, code), nil
}

// RenderMessage renders the message Draw would send for req with code, autofill lines
// included, without drawing, storing or sending anything: to preview a template.
func (s *Service) RenderMessage(req IssueRequest, code string) (string, error) {
	body, err := s.render(req, code)
	if err != nil {
		return "", renderFailure()
	}
	return body, nil
}

// Bind folds binding into the drafted code's hash in place of the one its IssueRequest
// carried: for a flow that learns what the code confirms only inside the Update that stores
// it (a version number that Update sets). Call it before Put; the message already rendered
// is not changed.
func (s *Service) Bind(d *Draft, binding []byte) {
	d.rec.Hash = s.hashers[0].sumCode(make([]byte, 0, sha256.Size), d.rec.ID, d.rec.Purpose, d.rec.Subject, d.code, binding)
}

// renderFailure is the error of a template that failed at send time (a host's template
// that fails on some Details). The template's own error is dropped: its text may quote the
// data, and so the code.
func renderFailure() error {
	return unavailable("rendering the message", errRender)
}

// errRender is the cause of renderFailure.
var errRender = errors.New("otp: the message template failed")

// normalizeLocale lower-cases locale and writes "_" as "-": "uk_UA" is "uk-ua".
func normalizeLocale(locale string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(locale)), "_", "-")
}

// validHost reports whether h is a DNS host name: dot-separated labels of letters, digits
// and hyphens, 1 to 63 characters each, not starting or ending with a hyphen.
func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validAppHash reports whether h is an SMS Retriever app hash: 11 characters of
// [A-Za-z0-9+/].
func validAppHash(h string) bool {
	if len(h) != 11 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// cloneTemplates returns a copy of t that shares no map with it.
func cloneTemplates(t *Templates) *Templates {
	if t == nil {
		return nil
	}
	c := *t
	c.Texts = maps.Clone(t.Texts)
	return &c
}

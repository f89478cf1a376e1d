// Package smtp sends e-mail through an SMTP server with github.com/wneessen/go-mail:
// STARTTLS (required by default) or implicit TLS, AUTH PLAIN with a username and password,
// connection timeouts, a plain-text body and, optionally, an HTML alternative rendered from
// an html/template.
//
// Recipients and subjects are checked before anything is sent: a recipient must be one
// bare address (net/mail) and neither may hold a line break or another control
// character, so that no header can be injected ("a@b.c\r\nBcc: x@y" is refused). Such a
// message is refused as a *verifykit.Error of KindInvalidInput that wraps
// ports.ErrPermanent, and no connection is made.
//
// Failures: a 5xx answer of the server (a mailbox that does not exist, a message refused)
// wraps ports.ErrPermanent; a 4xx answer, a failed connection or a timeout is transient,
// and the Sender does not retry it itself: the otp engine does, with backoff. SMTP has no
// idempotency key, so a message whose connection broke after its data was sent may arrive
// twice; every try of a message carries the same Message-ID (made from the message's
// idempotency key), by which receiving systems and people can tell the copies apart.
//
// A Limiter (or MessagesPerSecond) paces messages, each waiting on it with the call's
// context. The password and message bodies (they hold codes) never reach a log line or an
// error text, and recipients are logged masked (ports.MaskRecipient).
package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// TLSMode says how the connection is encrypted.
type TLSMode int

const (
	// StartTLS connects in clear and upgrades with STARTTLS, which the server must offer
	// (default port 587).
	StartTLS TLSMode = iota
	// ImplicitTLS speaks TLS from the first byte (default port 465).
	ImplicitTLS
	// NoTLS never encrypts: only for a relay on the same host or a test server. AUTH is
	// then sent in clear.
	NoTLS
)

// DefaultSubject is the subject of messages when Config.Subject is empty.
const DefaultSubject = "Your verification code"

// Config configures a Sender.
type Config struct {
	// Host is the SMTP server's name or address. Required.
	Host string
	// Port defaults to 587 (StartTLS, NoTLS) or 465 (ImplicitTLS).
	Port int
	// TLS is how the connection is encrypted. Default StartTLS.
	TLS TLSMode
	// TLSConfig overrides the TLS settings (e.g. RootCAs); its ServerName defaults to Host.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, authenticate with AUTH PLAIN.
	Username string
	Password string
	// From is the sender's address, e.g. "no-reply@example.com". Required.
	From string
	// FromName is the sender's display name, optional.
	FromName string
	// Subject of every message. Default DefaultSubject.
	Subject string
	// HTML, when set, renders an HTML alternative of every message; it is executed with
	// HTMLData (html/template escapes the body).
	HTML *template.Template
	// Timeout bounds connecting and each command. Default 15s.
	Timeout time.Duration
	// Limiter paces messages: each waits for a token with the call's context. Default:
	// MessagesPerSecond when set, else no pacing.
	Limiter *rate.Limiter
	// MessagesPerSecond, when Limiter is nil and it is positive, paces messages at that
	// rate with a burst of 1.
	MessagesPerSecond float64
	// Logger receives one line per message (recipient masked, never the body). Default:
	// discard.
	Logger *slog.Logger
}

// HTMLData is what Config.HTML is executed with.
type HTMLData struct {
	// Body is the message's text, e.g. "Your code is 482913".
	Body string
}

// Sender sends e-mail through one SMTP server. It is the ports.Sender of e-mail and is safe
// for concurrent use; each message uses a connection of its own.
type Sender struct {
	opts    []gomail.Option
	host    string
	from    string
	name    string
	subject string
	html    *template.Template
	limiter *rate.Limiter
	log     *slog.Logger
}

var _ ports.Sender = (*Sender)(nil)

// New checks cfg and returns a Sender. Bad settings answer KindInvalidInput; the password
// is never quoted.
func New(cfg Config) (*Sender, error) {
	var v verifykit.Validation
	bad := func(entry, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: entry, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if cfg.Host == "" || hasControl(cfg.Host) {
		bad("Host", "required", "is required")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		bad("Port", "range", "must be from 1 to 65535")
	}
	if cfg.TLS < StartTLS || cfg.TLS > NoTLS {
		bad("TLS", "inclusion", "must be StartTLS, ImplicitTLS or NoTLS")
	}
	if err := CheckAddress(cfg.From); err != nil {
		bad("From", "format", "must be one e-mail address")
	}
	if hasControl(cfg.FromName) {
		bad("FromName", "format", "must not contain line breaks or control characters")
	}
	subject := cfg.Subject
	if subject == "" {
		subject = DefaultSubject
	}
	if err := CheckSubject(subject); err != nil {
		bad("Subject", "format", "must not contain line breaks or control characters")
	}
	if cfg.Timeout < 0 || cfg.MessagesPerSecond < 0 {
		bad("Timeout", "positive", "Timeout and MessagesPerSecond must not be negative")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	port := cfg.Port
	if port == 0 {
		port = 587
		if cfg.TLS == ImplicitTLS {
			port = 465
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(timeout), gomail.WithTLSConfig(tc)}
	switch cfg.TLS {
	case StartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case NoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		auth := gomail.SMTPAuthPlain
		if cfg.TLS == NoTLS {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if _, err := gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{Entry: "Host", EntryType: verifykit.EntryConfig, Rule: "format", Description: "is not usable"})
	}
	s := &Sender{opts: opts, host: cfg.Host, from: cfg.From, name: cfg.FromName, subject: subject, html: cfg.HTML, limiter: cfg.Limiter, log: cfg.Logger}
	if s.limiter == nil && cfg.MessagesPerSecond > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.MessagesPerSecond), 1)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// ParseURL reads a Config from a URL such as
//
//	smtp://user:pass@smtp.example.com:587?from=no-reply@example.com&subject=Your+code
//
// smtp:// uses STARTTLS, smtps:// implicit TLS, and smtp+insecure:// no TLS at all (a
// local relay). The user and password are optional (and percent-encoded); from is
// required, from_name and subject are optional.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's error quotes the URL, password and all.
		return Config{}, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{Entry: "SMTP_URL", EntryType: verifykit.EntryConfig, Rule: "format", Description: "is not a URL"})
	}
	var cfg Config
	switch u.Scheme {
	case "smtp":
		cfg.TLS = StartTLS
	case "smtps":
		cfg.TLS = ImplicitTLS
	case "smtp+insecure":
		cfg.TLS = NoTLS
	default:
		return Config{}, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{Entry: "SMTP_URL", EntryType: verifykit.EntryConfig, Rule: "format", Description: "must start with smtp://, smtps:// or smtp+insecure://"})
	}
	cfg.Host = u.Hostname()
	if p := u.Port(); p != "" {
		if cfg.Port, err = strconv.Atoi(p); err != nil {
			return Config{}, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{Entry: "SMTP_URL", EntryType: verifykit.EntryConfig, Rule: "format", Description: "has a bad port"})
		}
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	q := u.Query()
	cfg.From, cfg.FromName, cfg.Subject = q.Get("from"), q.Get("from_name"), q.Get("subject")
	return cfg, nil
}

// CheckAddress accepts one bare e-mail address ("ann@example.com", no display name) with
// no line break or control character, and answers KindInvalidInput wrapping
// ports.ErrPermanent otherwise.
func CheckAddress(addr string) error {
	a, err := mail.ParseAddress(addr)
	if hasControl(addr) || err != nil || a.Address != addr || a.Name != "" {
		return &verifykit.Error{
			Kind: verifykit.KindInvalidInput, Message: "Validation failed.", Err: ports.ErrPermanent,
			Invalid: []verifykit.InvalidEntry{{Entry: "$.to", EntryType: verifykit.EntryJSONProperty, Rule: "format", Description: "must be one e-mail address"}},
		}
	}
	return nil
}

// CheckSubject accepts a subject with no line break or control character, and answers
// KindInvalidInput wrapping ports.ErrPermanent otherwise.
func CheckSubject(subject string) error {
	if hasControl(subject) {
		return &verifykit.Error{
			Kind: verifykit.KindInvalidInput, Message: "Validation failed.", Err: ports.ErrPermanent,
			Invalid: []verifykit.InvalidEntry{{Entry: "$.subject", EntryType: verifykit.EntryJSONProperty, Rule: "format", Description: "must not contain line breaks or control characters"}},
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' })
}

// Send sends msg to msg.To: checked first (see the package doc), paced, then handed to
// the server in one connection.
func (s *Sender) Send(ctx context.Context, msg ports.Message) error {
	if err := CheckAddress(msg.To); err != nil {
		return err
	}
	if msg.Body == "" {
		return &verifykit.Error{Kind: verifykit.KindInvalidInput, Message: "A message needs a body.", Err: ports.ErrPermanent}
	}
	m, err := s.message(msg)
	if err != nil {
		return err
	}
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return fmt.Errorf("smtp: waiting for the send pace: %w", ctxErr)
			}
			return fmt.Errorf("smtp: waiting for the send pace: %w", context.DeadlineExceeded)
		}
	}
	masked := ports.MaskRecipient(msg.To)
	c, err := gomail.NewClient(s.host, s.opts...)
	if err == nil {
		err = c.DialAndSendWithContext(ctx, m)
	}
	if err != nil {
		se := classify(err)
		s.log.LogAttrs(ctx, slog.LevelWarn, "smtp message not sent", slog.String("recipient", masked),
			slog.Bool("permanent", se.permanent), slog.Int("smtp_code", se.code), slog.String("error", se.Error()))
		return se
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "smtp message sent", slog.String("recipient", masked))
	return nil
}

// message builds the message of msg.
func (s *Sender) message(msg ports.Message) (*gomail.Msg, error) {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	var err error
	if s.name != "" {
		err = m.FromFormat(s.name, s.from)
	} else {
		err = m.From(s.from)
	}
	if err == nil {
		err = m.To(msg.To)
	}
	if err != nil {
		return nil, &verifykit.Error{Kind: verifykit.KindInvalidInput, Message: "Validation failed.", Err: errors.Join(ports.ErrPermanent, errors.New("smtp: address refused"))}
	}
	m.Subject(s.subject)
	m.SetDate()
	if id := messageID(msg.IdempotencyKey, s.from); id != "" {
		m.SetMessageIDWithValue(id)
	} else {
		m.SetMessageID()
	}
	m.SetBodyString(gomail.TypeTextPlain, msg.Body)
	if s.html != nil {
		if err := m.AddAlternativeHTMLTemplate(s.html, HTMLData{Body: msg.Body}); err != nil {
			return nil, errors.New("smtp: the HTML template failed") // its error may quote the body
		}
	}
	return m, nil
}

// messageID is the Message-ID of every try of a message with the idempotency key: the
// key (when it is plain enough for the header) at the sender's domain.
func messageID(key, from string) string {
	if key == "" || len(key) > 128 || strings.ContainsFunc(key, func(r rune) bool {
		return !(r == '-' || r == '.' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) {
		return ""
	}
	_, domain, _ := strings.Cut(from, "@")
	return key + "@" + domain
}

// sendError is a failed send. Its text never quotes the server's answer (it may name the
// recipient); errors.Is and errors.As reach the cause (a *gomail.SendError, ...).
type sendError struct {
	err       error
	permanent bool
	code      int
}

func (e *sendError) Error() string {
	switch {
	case e.permanent:
		return "smtp: the server refused the message (" + strconv.Itoa(e.code) + ")"
	case e.code != 0:
		return "smtp: the server deferred the message (" + strconv.Itoa(e.code) + ")"
	case errors.Is(e.err, context.DeadlineExceeded) || errors.Is(e.err, context.Canceled):
		return "smtp: interrupted (timeout or cancellation)"
	}
	return "smtp: the server could not be reached or the session failed"
}

func (e *sendError) Unwrap() []error {
	if e.permanent {
		return []error{e.err, ports.ErrPermanent}
	}
	return []error{e.err}
}

// classify tells a permanent refusal (an SMTP 5xx) from a transient failure.
func classify(err error) *sendError {
	se := &sendError{err: err}
	var ge *gomail.SendError
	if errors.As(err, &ge) {
		se.code = ge.ErrorCode()
		se.permanent = se.code >= 500 && se.code < 600
	}
	return se
}

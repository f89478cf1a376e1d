// Package twilio sends SMS and WhatsApp messages through Twilio's Programmable Messaging
// REST API (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP basic auth with the
// account SID and auth token), and turns Twilio's status callbacks into delivery receipts:
// CallbackHandler verifies X-Twilio-Signature and marks the code of an undelivered or
// failed message undeliverable, so the person's next attempt is told there is no code to
// match instead of waiting for one that never comes.
//
// # Retries and double sends
//
// Twilio's Messages API takes no idempotency key: a request that reached Twilio may have
// queued the message even when its answer was lost, and sending it again sends it twice.
// So Sender retries only what surely never arrived or what Twilio refused before doing
// anything:
//
//   - the request could not be written at all (the connection was refused, the name did
//     not resolve, dialling timed out): retried;
//   - 429 Too Many Requests, and 503 Service Unavailable with a Retry-After: retried after
//     the Retry-After Twilio asked for (when it is within MaxRetryWait), else a short
//     backoff. When the retries are used up the error is transient (it does not wrap
//     ports.ErrPermanent), so the caller may try again later;
//   - anything whose outcome is unknown — a timeout or a broken connection after the
//     request was written, any other 5xx — is NOT retried: the error wraps
//     ErrOutcomeUnknown and ports.ErrPermanent, so that the otp engine does not retry it
//     either. The flow then reports the code undeliverable; the person asks for a new
//     code, which supersedes this one, and never gets the same message twice.
//
// Every other refusal (4xx) is permanent: an invalid, unreachable or unsubscribed number
// (Twilio errors 21211, 21614, 21610, 21612, 21408, 63003, ...), a bad sender or bad
// credentials. The returned *Error carries Twilio's status, code and more_info link.
//
// # Pacing, secrets, logs
//
// A Limiter (or MessagesPerSecond) paces requests to the throughput Twilio publishes for
// the sender (e.g. 1 message per second for a US long code): each try waits on it with the
// call's context. The auth token and message bodies (they hold codes) never reach a log
// line or an error text; recipients are logged masked (ports.MaskRecipient), and Twilio's
// error message (which may quote the number) is not kept.
package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/sendutil"
	"github.com/verifykit/verifykit/ports"
)

// DefaultBaseURL is Twilio's API; set Config.BaseURL for a region's edge
// (e.g. https://api.dublin.ie1.twilio.com) or a test server.
const DefaultBaseURL = "https://api.twilio.com"

// The query parameters of a status-callback URL that carry a message's delivery reference
// (ports.DeliveryRef). Twilio signs the whole URL, so they cannot be forged.
const (
	QueryPurpose = "vk_purpose"
	QuerySubject = "vk_subject"
	QueryCodeID  = "vk_code"
	QueryScope   = "vk_scope"
)

// ErrOutcomeUnknown marks a send whose request may have reached Twilio though no answer
// came back (a timeout after the request was written, a 5xx): it may or may not have been
// sent, and is not retried (see the package doc). Errors that wrap it wrap
// ports.ErrPermanent too.
var ErrOutcomeUnknown = errors.New("twilio: outcome unknown; not retried to avoid a double send")

// Config configures a Sender.
type Config struct {
	// AccountSID ("AC...") and AuthToken authenticate every request. Required.
	AccountSID string
	AuthToken  string
	// From is the sending number (E.164) for SMS; MessagingServiceSID ("MG...") may be
	// given instead (or besides: it then takes precedence). One is required.
	From                string
	MessagingServiceSID string
	// WhatsAppFrom is the WhatsApp sender, e.g. "whatsapp:+14155238886". Default:
	// "whatsapp:" + From.
	WhatsAppFrom string
	// BaseURL is the API's base URL. Default DefaultBaseURL.
	BaseURL string
	// StatusCallbackURL, when set, is the public URL of the CallbackHandler: every
	// message is sent with it as StatusCallback, with the message's delivery reference
	// added to its query (QueryPurpose, ...).
	StatusCallbackURL string
	// HTTPClient sends the requests. Default: a client with a 15-second timeout.
	HTTPClient *http.Client
	// Limiter paces requests: each try waits for a token with the call's context. Default:
	// MessagesPerSecond when set, else no pacing.
	Limiter *rate.Limiter
	// MessagesPerSecond, when Limiter is nil and it is positive, paces requests at that
	// rate with a burst of 1.
	MessagesPerSecond float64
	// MaxRetries is how many times a retryable failure (see the package doc) is tried
	// again. Default 2; negative: never.
	MaxRetries int
	// MaxRetryWait bounds one wait between tries: a longer Retry-After ends the retries.
	// Default 10s.
	MaxRetryWait time.Duration
	// Logger receives one line per message (recipient masked, never the body). Default:
	// discard.
	Logger *slog.Logger
}

// Sender sends messages through Twilio: SMS and WhatsApp give its ports.Sender of each
// channel. It is safe for concurrent use.
type Sender struct {
	endpoint     string
	sid, token   string
	from, waFrom string
	service      string
	callback     *url.URL
	client       *http.Client
	retry        sendutil.Retry
	log          *slog.Logger
}

// New checks cfg and returns a Sender. Bad settings answer KindInvalidInput; the token is
// never quoted.
func New(cfg Config) (*Sender, error) {
	var v verifykit.Validation
	bad := func(entry, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: entry, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if cfg.AccountSID == "" || strings.ContainsAny(cfg.AccountSID, "/?#% ") {
		bad("AccountSID", "required", "is required (AC...)")
	}
	if cfg.AuthToken == "" {
		bad("AuthToken", "required", "is required")
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		bad("From", "required", "From or MessagingServiceSID is required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("BaseURL", "format", "must be an absolute http or https URL")
	}
	var callback *url.URL
	if cfg.StatusCallbackURL != "" {
		u, err := url.Parse(cfg.StatusCallbackURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("StatusCallbackURL", "format", "must be an absolute http or https URL")
		}
		callback = u
	}
	if cfg.MessagesPerSecond < 0 {
		bad("MessagesPerSecond", "positive", "must not be negative")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s := &Sender{
		endpoint: strings.TrimSuffix(base, "/") + "/2010-04-01/Accounts/" + cfg.AccountSID + "/Messages.json",
		sid:      cfg.AccountSID, token: cfg.AuthToken, from: cfg.From, waFrom: cfg.WhatsAppFrom,
		service: cfg.MessagingServiceSID, callback: callback, client: cfg.HTTPClient,
		retry: sendutil.NewRetry("twilio", cfg.Limiter, cfg.MessagesPerSecond, cfg.MaxRetries, cfg.MaxRetryWait), log: cfg.Logger,
	}
	if s.waFrom == "" && s.from != "" {
		s.waFrom = whatsApp(s.from)
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 15 * time.Second}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// whatsApp addresses a number on WhatsApp: "whatsapp:+..." (unchanged if it already is).
func whatsApp(addr string) string {
	if strings.HasPrefix(addr, "whatsapp:") {
		return addr
	}
	return "whatsapp:" + addr
}

// SMS is the ports.Sender that sends msg as an SMS to msg.To (E.164).
func (s *Sender) SMS() ports.Sender { return ports.SenderFunc(s.sendSMS) }

// WhatsApp is the ports.Sender that sends msg on WhatsApp to msg.To (E.164; "whatsapp:" is
// added). Without Config.WhatsAppFrom or Config.MessagingServiceSID its Send answers
// KindInvalidInput wrapping ports.ErrPermanent.
func (s *Sender) WhatsApp() ports.Sender { return ports.SenderFunc(s.sendWhatsApp) }

func (s *Sender) sendSMS(ctx context.Context, msg ports.Message) error {
	return s.send(ctx, "sms", msg.To, s.from, msg)
}

func (s *Sender) sendWhatsApp(ctx context.Context, msg ports.Message) error {
	if s.waFrom == "" && s.service == "" {
		return &verifykit.Error{Kind: verifykit.KindInvalidInput, Message: "No WhatsApp sender is configured.", Err: ports.ErrPermanent}
	}
	return s.send(ctx, "whatsapp", whatsApp(msg.To), s.waFrom, msg)
}

// Error is Twilio's refusal of a message: the HTTP status and Twilio's error code and
// more_info link (its message, which may quote the number, is not kept).
type Error struct {
	// Status is the HTTP status Twilio answered.
	Status int
	// Code is Twilio's error code, e.g. 21211; 0 when the body held none.
	Code int
	// MoreInfo is Twilio's link that explains the code.
	MoreInfo string
	// RetryAfter is the Retry-After Twilio sent, zero if none.
	RetryAfter time.Duration
}

// Error names the status and code only.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("twilio: answered ")
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != 0 {
		b.WriteString(", error ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.MoreInfo != "" {
		b.WriteString(" (")
		b.WriteString(e.MoreInfo)
		b.WriteString(")")
	}
	return b.String()
}

// Retryable reports whether Twilio refused the message before processing it, so that
// sending it again cannot send it twice: 429, and 503 with a Retry-After.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || (e.Status == http.StatusServiceUnavailable && e.RetryAfter > 0)
}

// Unwrap returns nothing for a retryable refusal; ErrOutcomeUnknown and
// ports.ErrPermanent for any other 5xx; ports.ErrPermanent for any other status.
func (e *Error) Unwrap() []error {
	switch {
	case e.Retryable():
		return nil
	case e.Status >= 500:
		return []error{ErrOutcomeUnknown, ports.ErrPermanent}
	}
	return []error{ports.ErrPermanent}
}

// apiError is Twilio's JSON error body.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// transportError is a failure to get an answer from Twilio. Its text never quotes the URL
// or anything sent; errors.Is and errors.As reach the cause.
type transportError struct {
	err   error
	wrote bool // the request was written: Twilio may have it
}

func (e *transportError) Error() string {
	switch {
	case e.wrote:
		return "twilio: no answer after the request was sent (outcome unknown, not retried)"
	case errors.Is(e.err, context.DeadlineExceeded) || errors.Is(e.err, context.Canceled):
		return "twilio: request interrupted before it was sent"
	}
	return "twilio: request could not be sent (network)"
}

func (e *transportError) Unwrap() []error {
	if e.wrote {
		return []error{e.err, ErrOutcomeUnknown, ports.ErrPermanent}
	}
	return []error{e.err}
}

func (s *Sender) send(ctx context.Context, channel, to, from string, msg ports.Message) error {
	if msg.To == "" || msg.Body == "" {
		return &verifykit.Error{Kind: verifykit.KindInvalidInput, Message: "A message needs a recipient and a body.", Err: ports.ErrPermanent}
	}
	form := url.Values{"To": {to}, "Body": {msg.Body}}
	if s.service != "" {
		form.Set("MessagingServiceSid", s.service)
	} else {
		form.Set("From", from)
	}
	if s.callback != nil {
		form.Set("StatusCallback", s.callbackURL(msg.Ref))
	}
	body := form.Encode()
	masked := ports.MaskRecipient(msg.To)
	var sid string
	tries, err := s.retry.Do(ctx, func() (err error) {
		sid, err = s.post(ctx, body)
		return err
	}, retryWait, func(tries int, err error) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "twilio message not sent",
			slog.String("channel", channel), slog.String("recipient", masked), slog.Int("tries", tries),
			slog.Bool("permanent", errors.Is(err, ports.ErrPermanent)), slog.String("error", err.Error()))
	})
	if err == nil {
		s.log.LogAttrs(ctx, slog.LevelInfo, "twilio message accepted",
			slog.String("channel", channel), slog.String("recipient", masked), slog.String("message_sid", sid), slog.Int("tries", tries))
	}
	return err
}

// callbackURL is the StatusCallback for a message with ref.
func (s *Sender) callbackURL(ref ports.DeliveryRef) string {
	u := *s.callback
	if ref.IsZero() {
		return u.String()
	}
	q := u.Query()
	q.Set(QueryPurpose, ref.Purpose)
	q.Set(QuerySubject, ref.Subject)
	q.Set(QueryCodeID, ref.CodeID)
	if ref.Scope != "" {
		q.Set(QueryScope, ref.Scope)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// post makes one try and returns the message's SID.
func (s *Sender) post(ctx context.Context, body string) (string, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, s.endpoint, strings.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("twilio: building the request: %w", err)
	}
	req.SetBasicAuth(s.sid, s.token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", &transportError{err: err, wrote: wrote.Load()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		var m struct {
			SID string `json:"sid"`
		}
		if err == nil {
			_ = json.Unmarshal(data, &m)
		}
		return m.SID, nil // accepted, even if the answer's body was cut short
	}
	e := &Error{Status: resp.StatusCode, RetryAfter: sendutil.RetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var ae apiError
	if json.Unmarshal(data, &ae) == nil {
		e.Code, e.MoreInfo = ae.Code, ae.MoreInfo
	}
	return "", e
}

// retryWait says whether err may be tried again and after how long.
func retryWait(err error, try int) (time.Duration, bool) {
	var te *Error
	if errors.As(err, &te) {
		if !te.Retryable() {
			return 0, false
		}
		if te.RetryAfter > 0 {
			return te.RetryAfter, true
		}
	} else if tr := (*transportError)(nil); !errors.As(err, &tr) || tr.wrote ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	return time.Duration(100<<min(try, 6)) * time.Millisecond, true
}

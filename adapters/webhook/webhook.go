// Package webhook delivers messages to a gateway of the host's own: each message is one
// HTTP POST of JSON
//
//	{"to": "+380931234585", "channel": "sms", "body": "...", "idempotency_key": "..."}
//
// signed the Standard Webhooks way (headers webhook-id, webhook-timestamp and
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>", with a secret
// "whsec_<base64>"), and carrying the message's idempotency key in an Idempotency-Key
// header too, the same on every try. A receiver checks the signature with Verify; Sign is
// the one place the signature is computed.
//
// The gateway's answer decides what happens next: 2xx is delivered; 429 and 5xx are
// transient (the sender waits the Retry-After the gateway asks for, within MaxRetryWait,
// and tries again, up to MaxRetries times; the error it returns at the end is transient
// too, so the otp engine may try later); any other 4xx (and a 3xx: redirects are not
// followed) wraps ports.ErrPermanent. Network failures and timeouts are transient: the
// gateway is expected to drop a second request with an Idempotency-Key it has seen, which
// is what makes retrying them safe.
//
// A Limiter (or MessagesPerSecond) paces the requests; each waits on it with the call's
// context. Message bodies hold codes and secrets sign requests: neither ever reaches a log
// line or an error text, and recipients are logged masked (ports.MaskRecipient).
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/sendutil"
	"github.com/verifykit/verifykit/ports"
)

// Channels name the kind of message in the payload's "channel".
const (
	ChannelSMS      = "sms"
	ChannelEmail    = "email"
	ChannelWhatsApp = "whatsapp"
)

// Payload is the JSON body of a request.
type Payload struct {
	To             string `json:"to"`
	Channel        string `json:"channel"`
	Body           string `json:"body"`
	IdempotencyKey string `json:"idempotency_key"`
}

// Config configures a Sender.
type Config struct {
	// URL is the gateway's endpoint (http or https). Required.
	URL string
	// Secret signs every request: "whsec_" followed by the base64 of at least 24 random
	// bytes. Required.
	Secret string
	// HTTPClient sends the requests. Default: a client with a 10-second timeout that does
	// not follow redirects.
	HTTPClient *http.Client
	// Limiter paces requests: each try waits for a token with the call's context. Default:
	// MessagesPerSecond, when set; else no pacing.
	Limiter *rate.Limiter
	// MessagesPerSecond, when Limiter is nil and it is positive, paces requests at that
	// rate with a burst of 1.
	MessagesPerSecond float64
	// MaxRetries is how many times a transient failure is tried again by the sender
	// itself. Default 2; negative: never.
	MaxRetries int
	// MaxRetryWait bounds one wait between tries (a longer Retry-After ends the retries and
	// the transient error is returned). Default 10s.
	MaxRetryWait time.Duration
	// Clock gives the signature timestamps. Default: the system clock.
	Clock ports.Clock
	// Logger receives one line per message (recipient masked, never the body). Default:
	// discard.
	Logger *slog.Logger
}

// Sender posts messages to the gateway: SMS, Email and WhatsApp give its ports.Sender of
// each channel, Channel that of any other. It is safe for concurrent use.
type Sender struct {
	url    string
	secret string
	client *http.Client
	retry  sendutil.Retry
	clock  ports.Clock
	log    *slog.Logger
}

// New checks cfg and returns a Sender. A bad URL or secret answers KindInvalidInput; the
// secret is never quoted.
func New(cfg Config) (*Sender, error) {
	var v verifykit.Validation
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.AddEntry(verifykit.InvalidEntry{Entry: "URL", EntryType: verifykit.EntryConfig, Rule: "format", Description: "must be an absolute http or https URL"})
	}
	if _, err := key(cfg.Secret); err != nil {
		v.AddEntry(verifykit.InvalidEntry{Entry: "Secret", EntryType: verifykit.EntryConfig, Rule: "format", Description: "must be whsec_ followed by base64"})
	}
	if cfg.MessagesPerSecond < 0 {
		v.AddEntry(verifykit.InvalidEntry{Entry: "MessagesPerSecond", EntryType: verifykit.EntryConfig, Rule: "positive", Description: "must not be negative"})
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	s := &Sender{url: cfg.URL, secret: cfg.Secret, client: cfg.HTTPClient,
		retry: sendutil.NewRetry("webhook", cfg.Limiter, cfg.MessagesPerSecond, cfg.MaxRetries, cfg.MaxRetryWait),
		clock: cfg.Clock, log: cfg.Logger}
	if s.client == nil {
		s.client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if s.clock == nil {
		s.clock = ports.SystemClock{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// SMS is the ports.Sender that posts messages with channel "sms".
func (s *Sender) SMS() ports.Sender { return s.Channel(ChannelSMS) }

// Email is the ports.Sender that posts messages with channel "email".
func (s *Sender) Email() ports.Sender { return s.Channel(ChannelEmail) }

// WhatsApp is the ports.Sender that posts messages with channel "whatsapp".
func (s *Sender) WhatsApp() ports.Sender { return s.Channel(ChannelWhatsApp) }

// Channel is the ports.Sender that posts messages with the channel named, paced by the
// limiter, retrying transient failures (see the package doc). A message's To and Body are
// required (KindInvalidInput wrapping ports.ErrPermanent otherwise); an empty
// IdempotencyKey gets a random one.
func (s *Sender) Channel(channel string) ports.Sender {
	return ports.SenderFunc(func(ctx context.Context, msg ports.Message) error { return s.send(ctx, channel, msg) })
}

// StatusError is the gateway's refusal: its HTTP status, and the wait it asked for.
type StatusError struct {
	// StatusCode is the gateway's HTTP status.
	StatusCode int
	// RetryAfter is the gateway's Retry-After, zero when it sent none.
	RetryAfter time.Duration
}

// Error names the status only: never the recipient or the body.
func (e *StatusError) Error() string {
	return "webhook: gateway answered " + strconv.Itoa(e.StatusCode) + " " + http.StatusText(e.StatusCode)
}

// Unwrap makes every status but 429 and 5xx match ports.ErrPermanent.
func (e *StatusError) Unwrap() error {
	if e.Temporary() {
		return nil
	}
	return ports.ErrPermanent
}

// Temporary reports whether trying again later may succeed (429 and 5xx).
func (e *StatusError) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// send posts msg on channel (see Channel).
func (s *Sender) send(ctx context.Context, channel string, msg ports.Message) error {
	if msg.To == "" || msg.Body == "" {
		return &verifykit.Error{Kind: verifykit.KindInvalidInput, Message: "A message needs a recipient and a body.", Err: ports.ErrPermanent}
	}
	if msg.IdempotencyKey == "" {
		msg.IdempotencyKey = uuid.NewString()
	}
	body, err := json.Marshal(Payload{To: msg.To, Channel: channel, Body: msg.Body, IdempotencyKey: msg.IdempotencyKey})
	if err != nil {
		return fmt.Errorf("webhook: encoding the message: %w", err)
	}
	to := ports.MaskRecipient(msg.To)
	var status int
	tries, err := s.retry.Do(ctx, func() (err error) {
		status, err = s.post(ctx, msg.IdempotencyKey, body)
		return err
	}, retryWait, func(tries int, err error) {
		s.log.LogAttrs(ctx, slog.LevelWarn, "webhook message not delivered",
			slog.String("channel", channel), slog.String("recipient", to), slog.Int("tries", tries),
			slog.Bool("permanent", errors.Is(err, ports.ErrPermanent)), slog.String("error", err.Error()))
	})
	if err == nil {
		s.log.LogAttrs(ctx, slog.LevelInfo, "webhook message delivered",
			slog.String("channel", channel), slog.String("recipient", to), slog.Int("status", status), slog.Int("tries", tries))
	}
	return err
}

// post makes one try; the error is a *StatusError or a transportError.
func (s *Sender) post(ctx context.Context, id string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook: building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	if err := SetHeaders(req.Header, s.secret, id, s.clock.Now(), body); err != nil {
		return 0, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, transportError{err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, &StatusError{StatusCode: resp.StatusCode, RetryAfter: sendutil.RetryAfter(resp.Header.Get("Retry-After"), s.clock.Now())}
}

// retryWait says whether err may be tried again and after how long: the gateway's
// Retry-After, else a short backoff.
func retryWait(err error, try int) (time.Duration, bool) {
	var se *StatusError
	if errors.As(err, &se) {
		if !se.Temporary() {
			return 0, false
		}
		if se.RetryAfter > 0 {
			return se.RetryAfter, true
		}
	} else if !errors.As(err, new(transportError)) {
		return 0, false
	}
	return time.Duration(100<<min(try, 6)) * time.Millisecond, true
}

// transportError is a failure to get an answer. Its text never quotes the URL (it may hold
// credentials) or anything sent; errors.Is and errors.As reach the cause.
type transportError struct{ err error }

func (e transportError) Error() string {
	if errors.Is(e.err, context.DeadlineExceeded) || errors.Is(e.err, context.Canceled) {
		return "webhook: request interrupted (timeout or cancellation)"
	}
	return "webhook: request failed (network)"
}

func (e transportError) Unwrap() error { return e.err }

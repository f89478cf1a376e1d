package memory

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// testSecret is the code secret of TestOTPConfig: fixed, so that tests are reproducible,
// and public, so never one to run with outside tests.
const testSecret = "verifykit-test-secret-0123456789"

// TestSecret returns the code secret of TestOTPConfig (a new copy on every call). It is in
// this source file for everyone to read: use it in tests only.
func TestSecret() []byte { return []byte(testSecret) }

// TestingT is what the test kit needs of a test: a *testing.T or *testing.B has it (any
// testing.TB).
type TestingT interface {
	Helper()
	Fatalf(format string, args ...any)
}

// TestOTPConfig returns otp.DefaultConfig as tests want it: the secret TestSecret, and
// delivery retries 1 ms apart, so that a sender made to fail costs a test no time. Every
// other setting (send limits, lifetimes, attempts) is the default.
func TestOTPConfig() otp.Config {
	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{TestSecret()}
	cfg.Delivery.BaseDelay, cfg.Delivery.MaxDelay = time.Millisecond, time.Millisecond
	return cfg
}

// NewTestEngine returns an otp engine on deps with TestOTPConfig, changed by edit (nil: no
// change), and fails t when it cannot be built. deps.Store and deps.Limiter default to new
// memory ones, so a test passes only what it shares: another adapter's stores, a clock, a
// sender.
func NewTestEngine(t TestingT, deps otp.Deps, edit func(*otp.Config)) *otp.Service {
	t.Helper()
	cfg := TestOTPConfig()
	if edit != nil {
		edit(&cfg)
	}
	if deps.Store == nil {
		deps.Store = NewOTPStore()
	}
	if deps.Limiter == nil {
		deps.Limiter = NewRateLimiter()
	}
	svc, err := otp.NewService(deps, cfg)
	if err != nil {
		t.Fatalf("memory.NewTestEngine: %v", err)
		return nil
	}
	return svc
}

// LogBuffer keeps what a logger writes, safe for the concurrent writes of the services
// under test: a test reads it back to check what was logged (and what never is).
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Logger returns a logger that writes text lines of every level, debug included, to b.
func (b *LogBuffer) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testKitStart is when a TestKit's clock starts unless TestKitConfig.Start says otherwise.
var testKitStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestTokenLifetime is how long after the kit's start its tokens stay valid, unless their
// claims say otherwise.
const TestTokenLifetime = 365 * 24 * time.Hour

// TestKitConfig says what NewTestKit builds; the zero value is the default kit.
type TestKitConfig struct {
	// Start is when the kit's clock starts. Default: 2026-03-01 12:00 UTC.
	Start time.Time
	// OTP changes the engine's configuration (TestOTPConfig) before the engine is built;
	// nil leaves it.
	OTP func(*otp.Config)
}

// TestKit is the in-memory set-up of a verifykit test, for verifykit's own tests and for a
// host's: an OTP engine with the test secret and fast delivery retries, the outboxes of
// every channel, a clock that moves only when told, a token table, and a log capture that
// every part of the kit writes to. Build the flows on it (personrequest.Deps{OTP: k.OTP,
// Tokens: k.Tokens, Clock: k.Clock, Logger: k.Logger, ...}), act, then read the outboxes,
// the codes (LastSMSCode) and the logs.
type TestKit struct {
	// Start is when Clock started.
	Start time.Time
	// Clock is the clock of everything in the kit.
	Clock *Clock
	// SMS, Email and WhatsApp receive what the flows send; OTP sends by SMS.
	SMS      *SMSOutbox
	Email    *EmailOutbox
	WhatsApp *WhatsAppOutbox
	// Codes and Limiter are the engine's code store and rate limiter.
	Codes   *OTPStore
	Limiter *RateLimiter
	// Tokens is the table AddToken fills.
	Tokens *Tokens
	// Logs keeps what Logger writes.
	Logs *LogBuffer
	// Logger writes every level to Logs: give it to the flows of the test.
	Logger *slog.Logger
	// OTP is the engine.
	OTP *otp.Service
}

// NewTestKit returns a new kit, failing t when its engine cannot be built (a bad
// cfg.OTP).
func NewTestKit(t TestingT, cfg TestKitConfig) *TestKit {
	t.Helper()
	if cfg.Start.IsZero() {
		cfg.Start = testKitStart
	}
	k := &TestKit{
		Start: cfg.Start, Clock: NewClock(cfg.Start),
		SMS: NewSMSOutbox(), Email: NewEmailOutbox(), WhatsApp: NewWhatsAppOutbox(),
		Codes: NewOTPStore(), Limiter: NewRateLimiter(), Tokens: NewTokens(), Logs: &LogBuffer{},
	}
	k.Logger = k.Logs.Logger()
	k.OTP = NewTestEngine(t, otp.Deps{Store: k.Codes, SMS: k.SMS, Limiter: k.Limiter, Clock: k.Clock, Logger: k.Logger}, cfg.OTP)
	return k
}

// AddToken adds token to Tokens with claims, and returns it. Claims left zero are filled
// in: Subject is the token, ExpiresAt TestTokenLifetime after Start. Give an ExpiresAt at
// or before Start for an expired token.
func (k *TestKit) AddToken(token string, claims ports.Claims) string {
	if claims.Subject == "" {
		claims.Subject = token
	}
	if claims.ExpiresAt.IsZero() {
		claims.ExpiresAt = k.Start.Add(TestTokenLifetime)
	}
	k.Tokens.Add(token, claims)
	return token
}

// codeInBody matches a one-time code in a message: MinDigits to MaxDigits digits that no
// other digit, letter or decimal point touches.
var codeInBody = regexp.MustCompile(fmt.Sprintf(`(?:^|[^0-9A-Za-z.])([0-9]{%d,%d})(?:$|[^0-9A-Za-z])`, otp.MinDigits, otp.MaxDigits))

// CodeIn returns the one-time code in body, the text of a message the engine sent: the
// first run of otp.MinDigits to otp.MaxDigits digits standing alone.
func CodeIn(body string) (string, bool) {
	m := codeInBody.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// LastSMSCode returns the code in the last SMS delivered to phone, failing t when there is
// none.
func (k *TestKit) LastSMSCode(t TestingT, phone string) string {
	t.Helper()
	msg, ok := k.SMS.Last(phone)
	if !ok {
		t.Fatalf("no SMS was delivered to %s", ports.MaskPhone(phone))
		return ""
	}
	code, ok := CodeIn(msg.Body)
	if !ok {
		t.Fatalf("the last SMS to %s holds no code", ports.MaskPhone(phone))
	}
	return code
}

// DiscardSender is a ports.Sender that delivers nothing and keeps nothing: benchmarks send
// to it, so that they measure the flow, not an outbox that grows.
type DiscardSender struct{}

// Send returns ctx.Err(), nil while ctx is not done.
func (DiscardSender) Send(ctx context.Context, _ ports.Message) error { return ctx.Err() }

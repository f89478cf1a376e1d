package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// The example of the Standard Webhooks specification.
const (
	specSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTimestamp = 1614265330
	specBody      = `{"test": 2432232314}`
	specSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignMatchesTheSpecExample(t *testing.T) {
	sig, err := webhook.Sign(specSecret, specID, time.Unix(specTimestamp, 0), []byte(specBody))
	require.NoError(t, err)
	require.Equal(t, specSignature, sig)
}

func TestVerify(t *testing.T) {
	at := time.Unix(specTimestamp, 0)
	headers := func(sig string) http.Header {
		h := http.Header{}
		h.Set("webhook-id", specID)
		h.Set("webhook-timestamp", strconv.Itoa(specTimestamp))
		h.Set("webhook-signature", sig)
		return h
	}
	for _, tc := range []struct {
		name string
		h    http.Header
		body string
		now  time.Time
		want error
	}{
		{"spec example", headers(specSignature), specBody, at, nil},
		{"one of several signatures", headers("v2,abc v1,AAAA " + specSignature), specBody, at, nil},
		{"within the tolerance", headers(specSignature), specBody, at.Add(webhook.Tolerance), nil},
		{"too old", headers(specSignature), specBody, at.Add(webhook.Tolerance + time.Second), webhook.ErrTimestamp},
		{"from the future", headers(specSignature), specBody, at.Add(-webhook.Tolerance - time.Second), webhook.ErrTimestamp},
		{"body changed", headers(specSignature), `{"test": 2432232315}`, at, webhook.ErrSignature},
		{"wrong signature", headers("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="), specBody, at, webhook.ErrSignature},
		{"no v1 signature", headers("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="), specBody, at, webhook.ErrSignature},
		{"unsigned", http.Header{}, specBody, at, webhook.ErrMissingHeaders},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(specSecret, tc.h, []byte(tc.body), tc.now)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
		})
	}
	require.ErrorIs(t, webhook.Verify("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers(specSignature), []byte(specBody), at), webhook.ErrSecret)
}

const testSecret = "whsec_c2VjcmV0LWtleS1vZi10aGUtdGVzdC1nYXRld2F5" // base64("secret-key-of-the-test-gateway")

// gateway is an HTTP receiver that checks every request as the Standard Webhooks
// specification says (computing the signature itself, not with package webhook), records
// it, and answers what reply says for the n-th request (from 0).
type gateway struct {
	t     *testing.T
	srv   *httptest.Server
	reply func(n int, w http.ResponseWriter)
	mu    sync.Mutex
	got   []received
	seen  map[string]bool // idempotency keys delivered
}

type received struct {
	at      time.Time
	payload webhook.Payload
	header  http.Header
}

func newGateway(t *testing.T, reply func(n int, w http.ResponseWriter)) *gateway {
	g := &gateway{t: t, reply: reply, seen: map[string]bool{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	if sig != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	n := len(g.got)
	g.got = append(g.got, received{at: at, payload: p, header: r.Header.Clone()})
	g.mu.Unlock()
	if g.reply != nil {
		g.reply(n, w)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (g *gateway) requests() []received {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.got)
}

func newSender(t *testing.T, g *gateway, tweak func(*webhook.Config)) *webhook.Sender {
	t.Helper()
	cfg := webhook.Config{URL: g.srv.URL + "/deliver", Secret: testSecret, MaxRetryWait: 2 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := webhook.New(cfg)
	require.NoError(t, err)
	return s
}

var msg = ports.Message{To: "+380931234585", Body: "Your code is 482913", IdempotencyKey: "0b4a5b39-8d5e-4a8e-9c3e-2f0d6c1b7a11"}

func TestSendDelivers(t *testing.T) {
	g := newGateway(t, nil)
	s := newSender(t, g, nil)
	require.NoError(t, s.SMS().Send(context.Background(), msg))
	require.NoError(t, s.Email().Send(context.Background(), ports.Message{To: "ann@example.com", Body: "code 1234", IdempotencyKey: "k2"}))
	require.NoError(t, s.WhatsApp().Send(context.Background(), ports.Message{To: "+34600111222", Body: "code 5678", IdempotencyKey: "k3"}))
	require.NoError(t, s.Channel("push").Send(context.Background(), ports.Message{To: "device-7", Body: "code 9012", IdempotencyKey: "k4"}))
	got := g.requests()
	require.Len(t, got, 4)
	require.Equal(t, webhook.Payload{To: msg.To, Channel: "sms", Body: msg.Body, IdempotencyKey: msg.IdempotencyKey}, got[0].payload)
	require.Equal(t, msg.IdempotencyKey, got[0].header.Get("Idempotency-Key"))
	require.Equal(t, msg.IdempotencyKey, got[0].header.Get("webhook-id"))
	require.Equal(t, "email", got[1].payload.Channel)
	require.Equal(t, "whatsapp", got[2].payload.Channel)
	require.Equal(t, webhook.Payload{To: "device-7", Channel: "push", Body: "code 9012", IdempotencyKey: "k4"}, got[3].payload)
}

func TestRefusalsArePermanentAndNotRetried(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity, http.StatusFound} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			g := newGateway(t, func(_ int, w http.ResponseWriter) {
				if status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(status)
			})
			err := newSender(t, g, nil).SMS().Send(context.Background(), msg)
			require.ErrorIs(t, err, ports.ErrPermanent)
			var se *webhook.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, status, se.StatusCode)
			require.Len(t, g.requests(), 1, "a permanent failure is not tried again")
		})
	}
}

func TestRetryAfterIsHonouredAndDeliveredOnce(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			g := newGateway(t, func(n int, w http.ResponseWriter) {
				if n == 0 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(status)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			require.NoError(t, newSender(t, g, nil).SMS().Send(context.Background(), msg))
			got := g.requests()
			require.Len(t, got, 2)
			require.GreaterOrEqual(t, got[1].at.Sub(got[0].at), time.Second, "the second try waited for Retry-After")
			require.Equal(t, got[0].header.Get("Idempotency-Key"), got[1].header.Get("Idempotency-Key"))
			require.Equal(t, got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"))
		})
	}
}

func TestTransientFailuresEndTransient(t *testing.T) {
	t.Run("5xx until the retries are used up", func(t *testing.T) {
		g := newGateway(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) })
		err := newSender(t, g, func(c *webhook.Config) { c.MaxRetries = 2 }).SMS().Send(context.Background(), msg)
		require.Error(t, err)
		require.NotErrorIs(t, err, ports.ErrPermanent)
		require.Len(t, g.requests(), 3)
	})
	t.Run("a Retry-After longer than MaxRetryWait is not waited for", func(t *testing.T) {
		g := newGateway(t, func(_ int, w http.ResponseWriter) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		err := newSender(t, g, nil).SMS().Send(context.Background(), msg)
		var se *webhook.StatusError
		require.ErrorAs(t, err, &se)
		require.Equal(t, time.Hour, se.RetryAfter)
		require.NotErrorIs(t, err, ports.ErrPermanent)
		require.Len(t, g.requests(), 1)
	})
}

// A timeout after the request reached the gateway is tried again with the same
// Idempotency-Key: the gateway delivers once.
func TestTimeoutAfterArrivalIsRetriedWithTheSameKey(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	g := newGateway(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			<-release // answer only after the client gave up
		}
		w.WriteHeader(http.StatusOK)
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) }) // runs before the server closes
	s := newSender(t, g, func(c *webhook.Config) {
		c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
	})
	go func() {
		// Release the first request once the second one arrived.
		for len(g.requests()) < 2 {
			time.Sleep(5 * time.Millisecond)
		}
		once.Do(func() { close(release) })
	}()
	require.NoError(t, s.SMS().Send(context.Background(), msg))
	got := g.requests()
	require.Len(t, got, 2)
	keys := map[string]bool{}
	for _, r := range got {
		keys[r.header.Get("Idempotency-Key")] = true
	}
	require.Len(t, keys, 1, "both tries carry one key, so the gateway can deliver once")
}

func TestInvalidMessageSendsNothing(t *testing.T) {
	g := newGateway(t, nil)
	err := newSender(t, g, nil).SMS().Send(context.Background(), ports.Message{Body: "x"})
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.Empty(t, g.requests())
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, err := webhook.New(webhook.Config{URL: "ftp://x", Secret: "plain-secret-value"})
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	require.NotContains(t, err.Error(), "plain-secret-value")
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Invalid, 2)
}

// Concurrent sends through a limiter of one message per interval, burst 1: the k-th
// request to reach the gateway (k from 0) arrives no earlier than k intervals after the
// first send began, because each passed the limiter before it left.
func TestPacingHoldsUnderConcurrentSends(t *testing.T) {
	const n, interval = 8, 20 * time.Millisecond
	g := newGateway(t, nil)
	lim := rate.NewLimiter(rate.Every(interval), 1)
	s := newSender(t, g, func(c *webhook.Config) { c.Limiter = lim })
	begin := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m := msg
			m.IdempotencyKey = strconv.Itoa(i)
			require.NoError(t, s.SMS().Send(context.Background(), m))
		})
	}
	wg.Wait()
	got := g.requests()
	require.Len(t, got, n)
	slices.SortFunc(got, func(a, b received) int { return a.at.Compare(b.at) })
	for k, r := range got {
		require.GreaterOrEqual(t, r.at.Sub(begin), time.Duration(k)*interval-time.Millisecond, "request %d came too early", k)
	}
	require.LessOrEqual(t, lim.Tokens(), 1.0)
}

func TestCancelledContextEndsThePacingWait(t *testing.T) {
	g := newGateway(t, nil)
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	require.True(t, lim.Allow()) // the only token is gone for an hour
	s := newSender(t, g, func(c *webhook.Config) { c.Limiter = lim })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	err := s.SMS().Send(ctx, msg)
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, g.requests())
}

func TestLogsHoldNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g := newGateway(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	s := newSender(t, g, func(c *webhook.Config) { c.Logger = logger })
	require.NoError(t, s.SMS().Send(context.Background(), msg))
	err := s.SMS().Send(context.Background(), msg)
	require.Error(t, err)
	out := logs.String() + err.Error()
	require.Contains(t, out, "webhook message delivered")
	require.Contains(t, out, "webhook message not delivered")
	for _, secret := range []string{"482913", msg.Body, msg.To, testSecret, strings.TrimPrefix(testSecret, "whsec_"), g.srv.URL} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, ports.MaskRecipient(msg.To))
}

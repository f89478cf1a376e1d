package twilio_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/twilio"
	"github.com/verifykit/verifykit/ports"
)

// Twilio's documented example of a request signature (Webhooks security, "Validating
// signatures from Twilio").
func TestSignatureMatchesTwilioDocumentedExample(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"},
	}
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	require.Equal(t, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", twilio.Signature("12345", u, params))
	require.True(t, twilio.ValidSignature("12345", u, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="))
	require.False(t, twilio.ValidSignature("12346", u, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="))
	require.False(t, twilio.ValidSignature("12345", u+"&x=1", params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="))
	require.False(t, twilio.ValidSignature("12345", u, params, ""))
}

func newSender(t *testing.T, f *fakeTwilio, tweak func(*twilio.Config)) *twilio.Sender {
	t.Helper()
	cfg := twilio.Config{AccountSID: testSID, AuthToken: testToken, From: "+15005550006", BaseURL: f.srv.URL, MaxRetryWait: 3 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := twilio.New(cfg)
	require.NoError(t, err)
	return s
}

var msg = ports.Message{
	To: "+380931234585", Body: "Your code is 482913", IdempotencyKey: "c0de-1",
	Ref: ports.DeliveryRef{Purpose: "person_request", Subject: "req-1", CodeID: "c0de-1"},
}

func TestSendSMSAndWhatsApp(t *testing.T) {
	f := newFakeTwilio(t)
	s := newSender(t, f, func(c *twilio.Config) { c.StatusCallbackURL = "https://hooks.example.com/twilio/status?tenant=a" })
	require.NoError(t, s.SMS().Send(context.Background(), msg))
	require.NoError(t, s.WhatsApp().Send(context.Background(), msg))
	got := f.accepted()
	require.Len(t, got, 2)
	require.Equal(t, "+380931234585", got[0].Get("To"))
	require.Equal(t, "+15005550006", got[0].Get("From"))
	require.Equal(t, msg.Body, got[0].Get("Body"))
	cb, err := url.Parse(got[0].Get("StatusCallback"))
	require.NoError(t, err)
	require.Equal(t, "hooks.example.com", cb.Host)
	require.Equal(t, url.Values{"tenant": {"a"}, "vk_purpose": {"person_request"}, "vk_subject": {"req-1"}, "vk_code": {"c0de-1"}}, cb.Query())
	require.Equal(t, "whatsapp:+380931234585", got[1].Get("To"))
	require.Equal(t, "whatsapp:+15005550006", got[1].Get("From"))

	t.Run("messaging service", func(t *testing.T) {
		f := newFakeTwilio(t)
		s := newSender(t, f, func(c *twilio.Config) { c.From, c.MessagingServiceSID = "", "MG0123456789abcdef0123456789abcdef" })
		require.NoError(t, s.SMS().Send(context.Background(), msg))
		require.NoError(t, s.WhatsApp().Send(context.Background(), msg))
		got := f.accepted()
		require.Len(t, got, 2)
		require.Equal(t, "MG0123456789abcdef0123456789abcdef", got[0].Get("MessagingServiceSid"))
		require.Empty(t, got[0].Get("From"))
		require.Empty(t, got[0].Get("StatusCallback"))
	})
	t.Run("wrong credentials are permanent", func(t *testing.T) {
		f := newFakeTwilio(t)
		err := newSender(t, f, func(c *twilio.Config) { c.AuthToken = "wrong" }).SMS().Send(context.Background(), msg)
		var te *twilio.Error
		require.ErrorAs(t, err, &te)
		require.Equal(t, 20003, te.Code)
		require.ErrorIs(t, err, ports.ErrPermanent)
		require.Len(t, f.requestTimes(), 1)
	})
}

func TestPermanentCodesAreNotRetried(t *testing.T) {
	for _, code := range []int{21211, 21614, 21610, 21612, 21408, 63003} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := newFakeTwilio(t)
			f.refuse[msg.To] = [2]int{code, http.StatusBadRequest}
			err := newSender(t, f, nil).SMS().Send(context.Background(), msg)
			require.ErrorIs(t, err, ports.ErrPermanent)
			require.NotErrorIs(t, err, twilio.ErrOutcomeUnknown)
			var te *twilio.Error
			require.ErrorAs(t, err, &te)
			require.Equal(t, code, te.Code)
			require.Equal(t, http.StatusBadRequest, te.Status)
			require.Equal(t, "https://www.twilio.com/docs/errors/"+strconv.Itoa(code), te.MoreInfo)
			require.NotContains(t, err.Error(), msg.To, "Twilio's message quotes the number; the error does not")
			require.Len(t, f.requestTimes(), 1, "no retry")
			require.Empty(t, f.accepted())
		})
	}
}

func TestRefusedBeforeProcessingIsRetriedAfterRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFakeTwilio(t)
			f.before = func(n int, w http.ResponseWriter, _ *http.Request) bool {
				if n > 0 {
					return false
				}
				w.Header().Set("Retry-After", "1")
				twilioError(w, status, 20429, "Too Many Requests")
				return true
			}
			require.NoError(t, newSender(t, f, nil).SMS().Send(context.Background(), msg))
			times := f.requestTimes()
			require.Len(t, times, 2)
			require.GreaterOrEqual(t, times[1].Sub(times[0]), time.Second, "Retry-After was waited for")
			require.Len(t, f.accepted(), 1, "delivered once")
		})
	}
	t.Run("used up: transient", func(t *testing.T) {
		f := newFakeTwilio(t)
		f.before = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			twilioError(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			return true
		}
		err := newSender(t, f, func(c *twilio.Config) { c.MaxRetries = 1 }).SMS().Send(context.Background(), msg)
		require.Error(t, err)
		require.NotErrorIs(t, err, ports.ErrPermanent)
		require.Len(t, f.requestTimes(), 2)
	})
}

func TestOutcomeUnknownIsNotRetried(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFakeTwilio(t)
			f.before = func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				twilioError(w, status, 20500, "Internal Server Error")
				return true
			}
			err := newSender(t, f, nil).SMS().Send(context.Background(), msg)
			require.ErrorIs(t, err, twilio.ErrOutcomeUnknown)
			require.ErrorIs(t, err, ports.ErrPermanent, "so the otp engine does not retry it either")
			require.Len(t, f.requestTimes(), 1)
		})
	}
}

// The request reached Twilio, whose answer came too late: it may have been sent, so it is
// not sent again (see the package doc).
func TestTimeoutAfterTheRequestArrivedIsNotRetried(t *testing.T) {
	release := make(chan struct{})
	f := newFakeTwilio(t)
	t.Cleanup(func() { close(release) }) // before the server closes
	f.before = func(_ int, _ http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return false // then accept it, as Twilio would have
	}
	s := newSender(t, f, func(c *twilio.Config) { c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond} })
	err := s.SMS().Send(context.Background(), msg)
	require.ErrorIs(t, err, twilio.ErrOutcomeUnknown)
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.Len(t, f.requestTimes(), 1, "one request only")
}

// A request that could not even be written (nothing listens) is retried: it surely did not
// reach Twilio.
func TestConnectionRefusedIsRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}
	s, err := twilio.New(twilio.Config{AccountSID: testSID, AuthToken: testToken, From: "+15005550006",
		BaseURL: "http://" + addr, HTTPClient: &http.Client{Transport: tr}, MaxRetries: 2})
	require.NoError(t, err)
	err = s.SMS().Send(context.Background(), msg)
	require.Error(t, err)
	require.NotErrorIs(t, err, ports.ErrPermanent, "transient: the caller may try later")
	require.NotErrorIs(t, err, twilio.ErrOutcomeUnknown)
	require.EqualValues(t, 3, dials.Load(), "the first try and two retries")
	require.NotContains(t, err.Error(), addr)
}

func TestInvalidMessageIsRefusedBeforeSending(t *testing.T) {
	f := newFakeTwilio(t)
	err := newSender(t, f, nil).SMS().Send(context.Background(), ports.Message{To: msg.To})
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	require.ErrorIs(t, err, ports.ErrPermanent)
	require.Empty(t, f.requestTimes())
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, err := twilio.New(twilio.Config{AuthToken: "tok-XYZ", BaseURL: "::"})
	var ve *verifykit.Error
	require.ErrorAs(t, err, &ve)
	require.Equal(t, verifykit.KindInvalidInput, ve.Kind)
	require.Len(t, ve.Invalid, 3) // AccountSID, From, BaseURL
	require.NotContains(t, err.Error(), "tok-XYZ")
}

// Concurrent sends through a limiter of one message per interval, burst 1: the k-th
// request to reach the server (k from 0) arrives no earlier than k intervals after the
// sends began, since each passed the limiter first.
func TestPacingHoldsUnderConcurrentSends(t *testing.T) {
	const n, interval = 8, 20 * time.Millisecond
	f := newFakeTwilio(t)
	lim := rate.NewLimiter(rate.Every(interval), 1)
	s := newSender(t, f, func(c *twilio.Config) { c.Limiter = lim })
	begin := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { require.NoError(t, s.SMS().Send(context.Background(), msg)) })
	}
	wg.Wait()
	times := f.requestTimes()
	require.Len(t, times, n)
	slices.SortFunc(times, time.Time.Compare)
	for k, at := range times {
		require.GreaterOrEqual(t, at.Sub(begin), time.Duration(k)*interval-time.Millisecond, "request %d came too early", k)
	}
	require.LessOrEqual(t, lim.Tokens(), 1.0)
}

func TestCancelledContextEndsThePacingWait(t *testing.T) {
	f := newFakeTwilio(t)
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	require.True(t, lim.Allow())
	s := newSender(t, f, func(c *twilio.Config) { c.Limiter = lim })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	require.ErrorIs(t, s.SMS().Send(ctx, msg), context.Canceled)
	require.Empty(t, f.requestTimes())
}

func TestLogsAndErrorsHoldNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f := newFakeTwilio(t)
	f.refuse["+380501112233"] = [2]int{21211, http.StatusBadRequest}
	s := newSender(t, f, func(c *twilio.Config) { c.Logger = logger; c.StatusCallbackURL = "https://hooks.example.com/s" })
	require.NoError(t, s.SMS().Send(context.Background(), msg))
	bad := msg
	bad.To = "+380501112233"
	err := s.SMS().Send(context.Background(), bad)
	require.Error(t, err)
	out := logs.String() + err.Error()
	require.Contains(t, out, "twilio message accepted")
	require.Contains(t, out, "twilio message not sent")
	for _, secret := range []string{testToken, msg.Body, "482913", msg.To, bad.To, "not a valid phone number"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, ports.MaskRecipient(msg.To))
}

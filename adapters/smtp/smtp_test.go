package smtp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"html/template"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/smtp"
	"github.com/verifykit/verifykit/ports"
)

const (
	testUser     = "mailer"
	testPassword = "s3cret-smtp-password"
)

// server is a real SMTP server (emersion/go-smtp) on loopback that keeps what it receives.
type server struct {
	addr string
	host string
	port int
	pool *x509.CertPool
	// rcptErr, when set, refuses every RCPT TO with it.
	rcptErr error

	mu       sync.Mutex
	mails    []received
	sessions int // STARTTLS starts a second session on the same connection
	mailCmds int
	authed   []string
}

type received struct {
	from string
	to   []string
	data []byte
	tls  bool
	auth bool
	at   time.Time
}

type session struct {
	s    *server
	conn *gosmtp.Conn
	cur  received
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != testUser || pass != testPassword {
			return errors.New("invalid credentials")
		}
		se.cur.auth = true
		se.s.mu.Lock()
		se.s.authed = append(se.s.authed, user)
		se.s.mu.Unlock()
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *gosmtp.MailOptions) error {
	se.cur.from = from
	se.s.mu.Lock()
	se.s.mailCmds++
	se.s.mu.Unlock()
	_, se.cur.tls = se.conn.TLSConnectionState()
	return nil
}

func (se *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if se.s.rcptErr != nil {
		return se.s.rcptErr
	}
	se.cur.to = append(se.cur.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.cur.data, se.cur.at = b, time.Now()
	se.s.mu.Lock()
	se.s.mails = append(se.s.mails, se.cur)
	se.s.mu.Unlock()
	return nil
}

func (se *session) Reset()        { se.cur = received{auth: se.cur.auth} }
func (se *session) Logout() error { return nil }

type mode int

const (
	plain mode = iota
	startTLS
	implicitTLS
)

// newServer starts a server on 127.0.0.1; for startTLS and implicitTLS with a self-signed
// certificate made here.
func newServer(t *testing.T, m mode, tweak func(*server)) *server {
	t.Helper()
	s := &server{}
	if tweak != nil {
		tweak(s)
	}
	be := gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		return &session{s: s, conn: c}, nil
	})
	srv := gosmtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	if m != plain {
		cert, pool := selfSigned(t)
		s.pool = pool
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if m == implicitTLS {
			l = tls.NewListener(l, srv.TLSConfig)
		}
	} else {
		srv.AllowInsecureAuth = true
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.addr = l.Addr().String()
	host, port, _ := net.SplitHostPort(s.addr)
	s.host = host
	s.port, _ = strconv.Atoi(port)
	return s
}

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "verifykit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func (s *server) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.mails...)
}

func (s *server) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func newSender(t *testing.T, s *server, m smtp.TLSMode, tweak func(*smtp.Config)) *smtp.Sender {
	t.Helper()
	cfg := smtp.Config{Host: s.host, Port: s.port, TLS: m, From: "no-reply@example.com", FromName: "Verifykit", Timeout: 5 * time.Second}
	if s.pool != nil {
		cfg.TLSConfig = &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
	}
	if tweak != nil {
		tweak(&cfg)
	}
	sender, err := smtp.New(cfg)
	require.NoError(t, err)
	return sender
}

var msg = ports.Message{To: "ann@example.org", Body: "Your code is 482913", IdempotencyKey: "0b4a5b39-8d5e-4a8e-9c3e-2f0d6c1b7a11"}

func parse(t *testing.T, data []byte) (*mail.Message, string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	body, err := io.ReadAll(m.Body)
	require.NoError(t, err)
	return m, string(body)
}

func TestSendOverEveryTransport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		server  mode
		tls     smtp.TLSMode
		auth    bool
		wantTLS bool
	}{
		{"STARTTLS with AUTH PLAIN", startTLS, smtp.StartTLS, true, true},
		{"implicit TLS with AUTH PLAIN", implicitTLS, smtp.ImplicitTLS, true, true},
		{"no TLS, no auth (local relay)", plain, smtp.NoTLS, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, tc.server, nil)
			sender := newSender(t, s, tc.tls, func(c *smtp.Config) {
				if tc.auth {
					c.Username, c.Password = testUser, testPassword
				}
			})
			require.NoError(t, sender.Send(context.Background(), msg))
			got := s.received()
			require.Len(t, got, 1)
			require.Equal(t, "no-reply@example.com", got[0].from)
			require.Equal(t, []string{"ann@example.org"}, got[0].to)
			require.Equal(t, tc.wantTLS, got[0].tls)
			require.Equal(t, tc.auth, got[0].auth)
			m, body := parse(t, got[0].data)
			require.Equal(t, `"Verifykit" <no-reply@example.com>`, m.Header.Get("From"))
			require.Equal(t, "<ann@example.org>", m.Header.Get("To"))
			require.Equal(t, smtp.DefaultSubject, m.Header.Get("Subject"))
			require.Equal(t, "<"+msg.IdempotencyKey+"@example.com>", m.Header.Get("Message-ID"))
			require.Empty(t, m.Header.Get("Bcc"))
			require.Contains(t, m.Header.Get("Content-Type"), "text/plain")
			require.Contains(t, body, "Your code is 482913")
		})
	}
}

func TestStartTLSIsRequired(t *testing.T) {
	s := newServer(t, plain, nil) // offers no STARTTLS
	err := newSender(t, s, smtp.StartTLS, nil).Send(context.Background(), msg)
	require.Error(t, err)
	require.Empty(t, s.received())
}

func TestWrongPasswordSendsNothing(t *testing.T) {
	s := newServer(t, startTLS, nil)
	err := newSender(t, s, smtp.StartTLS, func(c *smtp.Config) { c.Username, c.Password = testUser, "wrong-password-9" }).Send(context.Background(), msg)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "wrong-password-9")
	require.Empty(t, s.received())
}

func TestHTMLAlternative(t *testing.T) {
	s := newServer(t, startTLS, nil)
	tpl := template.Must(template.New("m").Parse(`<p>{{.Body}}</p>`))
	sender := newSender(t, s, smtp.StartTLS, func(c *smtp.Config) { c.HTML = tpl; c.Subject = "Ihr Code" })
	require.NoError(t, sender.Send(context.Background(), ports.Message{To: "ann@example.org", Body: "Code <b>1234</b>"}))
	m, body := parse(t, s.received()[0].data)
	require.Contains(t, m.Header.Get("Content-Type"), "multipart/alternative")
	require.Equal(t, "Ihr Code", m.Header.Get("Subject"))
	require.Contains(t, body, "text/html")
	require.Contains(t, body, "&lt;b&gt;1234&lt;/b&gt;", "html/template escapes the body")
}

func TestHeaderInjectionIsRefusedBeforeSending(t *testing.T) {
	s := newServer(t, startTLS, nil)
	sender := newSender(t, s, smtp.StartTLS, nil)
	for _, to := range []string{
		"a@b.c\r\nBcc: x@y", "a@b.c\nBcc: x@y", "a@b.c\rBcc: x@y", "Ann <a@b.c>", "a@b.c, x@y", "not-an-address", "", "a@b.c\x00",
	} {
		t.Run(strconv.Quote(to), func(t *testing.T) {
			err := sender.Send(context.Background(), ports.Message{To: to, Body: "code 1234"})
			require.ErrorIs(t, err, verifykit.ErrInvalidInput)
			require.ErrorIs(t, err, ports.ErrPermanent)
		})
	}
	_, err := smtp.New(smtp.Config{Host: s.host, From: "no-reply@example.com", Subject: "Code\r\nBcc: x@y"})
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	_, err = smtp.New(smtp.Config{Host: s.host, From: "no-reply@example.com\r\nBcc: x@y"})
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	require.Zero(t, s.sessionCount(), "no connection was made")
}

func TestRefusedRecipient(t *testing.T) {
	for _, tc := range []struct {
		code      int
		permanent bool
	}{{550, true}, {553, true}, {451, false}, {452, false}} {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			s := newServer(t, startTLS, func(s *server) {
				s.rcptErr = &gosmtp.SMTPError{Code: tc.code, EnhancedCode: gosmtp.EnhancedCode{tc.code / 100, 1, 1}, Message: "no such user ann@example.org"}
			})
			err := newSender(t, s, smtp.StartTLS, nil).Send(context.Background(), msg)
			require.Error(t, err)
			require.Equal(t, tc.permanent, errors.Is(err, ports.ErrPermanent))
			require.NotContains(t, err.Error(), msg.To)
			require.Empty(t, s.received())
			s.mu.Lock()
			defer s.mu.Unlock()
			require.Equal(t, 1, s.mailCmds, "the sender does not retry by itself")
		})
	}
}

func TestUnreachableServerIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	p, _ := strconv.Atoi(port)
	sender, err := smtp.New(smtp.Config{Host: "127.0.0.1", Port: p, TLS: smtp.NoTLS, From: "no-reply@example.com", Timeout: time.Second})
	require.NoError(t, err)
	err = sender.Send(context.Background(), msg)
	require.Error(t, err)
	require.NotErrorIs(t, err, ports.ErrPermanent)
}

func TestParseURL(t *testing.T) {
	cfg, err := smtp.ParseURL("smtp://mailer:p%40ss@smtp.example.com:2525?from=no-reply@example.com&subject=Your+code")
	require.NoError(t, err)
	require.Equal(t, smtp.Config{Host: "smtp.example.com", Port: 2525, TLS: smtp.StartTLS, Username: "mailer", Password: "p@ss",
		From: "no-reply@example.com", Subject: "Your code"}, cfg)
	cfg, err = smtp.ParseURL("smtps://smtp.example.com?from=a@example.com")
	require.NoError(t, err)
	require.Equal(t, smtp.ImplicitTLS, cfg.TLS)
	_, err = smtp.ParseURL("http://user:hunter2@x")
	require.ErrorIs(t, err, verifykit.ErrInvalidInput)
	require.NotContains(t, err.Error(), "hunter2")
	_, err = smtp.ParseURL("smtp://user:hunter2@x:bad\x7f")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

// Concurrent sends through a limiter of one message per interval, burst 1: the k-th
// message the server receives (k from 0) arrives no earlier than k intervals after the
// sends began.
func TestPacingHoldsUnderConcurrentSends(t *testing.T) {
	const n, interval = 5, 20 * time.Millisecond
	s := newServer(t, plain, nil)
	lim := rate.NewLimiter(rate.Every(interval), 1)
	sender := newSender(t, s, smtp.NoTLS, func(c *smtp.Config) { c.Limiter = lim })
	begin := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { require.NoError(t, sender.Send(context.Background(), msg)) })
	}
	wg.Wait()
	got := s.received()
	require.Len(t, got, n)
	times := make([]time.Time, 0, n)
	for _, r := range got {
		times = append(times, r.at)
	}
	for k, at := range sortTimes(times) {
		require.GreaterOrEqual(t, at.Sub(begin), time.Duration(k)*interval-time.Millisecond, "message %d came too early", k)
	}
}

func sortTimes(ts []time.Time) []time.Time {
	for i := range ts {
		for j := i + 1; j < len(ts); j++ {
			if ts[j].Before(ts[i]) {
				ts[i], ts[j] = ts[j], ts[i]
			}
		}
	}
	return ts
}

func TestCancelledContextEndsThePacingWait(t *testing.T) {
	s := newServer(t, plain, nil)
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	require.True(t, lim.Allow())
	sender := newSender(t, s, smtp.NoTLS, func(c *smtp.Config) { c.Limiter = lim })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	require.ErrorIs(t, sender.Send(ctx, msg), context.Canceled)
	require.Zero(t, s.sessionCount())
}

func TestLogsHoldNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newServer(t, startTLS, nil)
	sender := newSender(t, s, smtp.StartTLS, func(c *smtp.Config) { c.Username, c.Password, c.Logger = testUser, testPassword, logger })
	require.NoError(t, sender.Send(context.Background(), msg))
	refusing := newServer(t, startTLS, func(s *server) { s.rcptErr = &gosmtp.SMTPError{Code: 550, Message: "no such user ann@example.org"} })
	bad := newSender(t, refusing, smtp.StartTLS, func(c *smtp.Config) { c.Username, c.Password, c.Logger = testUser, testPassword, logger })
	err := bad.Send(context.Background(), msg)
	require.Error(t, err)
	out := logs.String() + err.Error()
	require.Contains(t, out, "smtp message sent")
	require.Contains(t, out, "smtp message not sent")
	for _, secret := range []string{testPassword, msg.Body, "482913", msg.To} {
		require.NotContains(t, out, secret)
	}
	require.True(t, strings.Contains(out, ports.MaskRecipient(msg.To)))
}

package postgres_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// Tokens of the process and authentication-method flows of these tests.
const (
	procToken  = "tok-processes"  // admin and actor scopes of org "org-a", force delete
	pisToken   = "tok-pis-olga"   // Olga's own token for deactivations
	faultOrg   = "org-a"          // the organisation of the processes
	faultPhone = "+380931234585"  // the person's own phone
	thirdPhone = "+380501112233"  // the third person's phone (newPersonRequest)
	procPhone  = "+34600111222"   // the actors' phone
	actorDoc   = "X1234567L"      // the actors' document number (second factor)
	faultTick  = 2 * time.Second  // how far the shared clock moves between operations
	uploadTTL  = 24 * time.Hour   // personrequest.DefaultConfig().UploadURLTTL
	codeTTL    = 15 * time.Minute // personrequest.DefaultConfig().CodeTTL
	procExpiry = 720 * time.Hour  // a process's lifetime: longer than the test's clock moves
	faultRuns  = 400              // operations per worker, at most
	faultTime  = 8 * time.Second  // and for at most this long
	faultEvery = 30 * time.Millisecond
)

// host is one instance of a host service on PostgreSQL: every flow's service on its own
// pool, with the clock, outbox, tokens and upload signer the instances share.
type host struct {
	db       *postgres.DB
	requests *personrequest.Service
	procs    *otpprocess.Service
	methods  *authmethod.Service
	codes    *otp.Service
}

// shared is what the instances of one test share besides the database.
type shared struct {
	clock  *memory.Clock
	sms    *memory.SMSOutbox
	tokens *memory.Tokens
	signer *memory.UploadSigner
}

func newShared() shared {
	s := shared{clock: memory.NewClock(start), sms: memory.NewSMSOutbox(), tokens: memory.NewTokens(), signer: memory.NewUploadSigner()}
	exp := start.Add(10 * 365 * 24 * time.Hour)
	s.tokens.Add(prToken, ports.Claims{Subject: "operator", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead}, ExpiresAt: exp})
	s.tokens.Add(procToken, ports.Claims{
		Subject: "org-admin", OrgID: faultOrg, ExpiresAt: exp,
		Scopes:      []string{otpprocess.DefaultAdminScope, otpprocess.DefaultActorScope},
		Permissions: []string{otpprocess.DefaultForceDeletePermission},
	})
	s.tokens.Add(pisToken, ports.Claims{Subject: "olga", PersonID: "olga", Scopes: []string{authmethod.Scope}, ExpiresAt: exp})
	return s
}

// newHost builds every flow's service on db, with generous send limits (they are still
// recorded: a resend writes its send-limit record) and fast delivery retries.
func newHost(t testing.TB, db *postgres.DB, sh shared, configure ...func(*otp.Config)) *host {
	t.Helper()
	codes := memory.NewTestEngine(t, otp.Deps{Store: db.OTPStore(), Limiter: db.RateLimiter(), SMS: sh.sms, Clock: sh.clock},
		func(c *otp.Config) {
			c.SendLimits = []ports.RateLimit{{Max: 1_000_000, Per: time.Minute}}
			for _, f := range configure {
				f(c)
			}
		})
	h := &host{db: db, codes: codes}
	var err error
	h.requests, err = personrequest.NewService(personrequest.Deps{
		Store: db.PersonRequestStore(), OTP: codes, Tokens: sh.tokens, Uploads: sh.signer, Clock: sh.clock,
	}, personrequest.DefaultConfig())
	require.NoError(t, err)
	h.procs, err = otpprocess.NewService(otpprocess.Deps{
		Store: db.ProcessStore(), OTP: codes, Tokens: sh.tokens, Clock: sh.clock,
	}, otpprocess.DefaultConfig())
	require.NoError(t, err)
	h.methods, err = authmethod.NewService(authmethod.Deps{
		Persons: db.PersonStore(), Methods: db.AuthMethodStore(), Confidants: db.ConfidantStore(), Tokens: sh.tokens, Clock: sh.clock,
	}, authmethod.DefaultConfig())
	require.NoError(t, err)
	return h
}

// createProcess opens an SMS process with the document number as second factor.
func (h *host) createProcess(ctx context.Context) (otpprocess.Process, error) {
	res, err := h.procs.Create(ctx, otpprocess.CreateRequest{
		Token: procToken, OrgID: faultOrg, ExpiresIn: "PT720H",
		Actor: otpprocess.Actor{
			Name: "Ana", MSISDN: ports.ProcessPhone{CountryCode: "34", PhoneNumber: "600111222"},
			IdentityDocument: otpprocess.IdentityDocument{DocumentType: "DNI", DocumentNumber: actorDoc},
		},
		TwoFactorType: otpprocess.TwoFactorDocumentNumber,
		Channel:       otpprocess.Channel{Type: otpprocess.ChannelSMS},
	})
	return res.Process, err
}

// sentCode returns the code of the SMS that delivered the code with the id codeID, and
// where it went; ok is false when no SMS carried it (its write's answer was lost, say).
func sentCode(sms *memory.SMSOutbox, codeID string) (code, to string, ok bool) {
	for _, m := range sms.Messages() {
		if m.IdempotencyKey == codeID {
			return codeIn(m.Body), m.To, true
		}
	}
	return "", "", false
}

// currentPhone is the phone the codes of r's current method go to.
func currentPhone(r ports.PersonRequest) string {
	m := r.Person.AuthMethods[r.CurrentAuthMethod]
	if m.Type == ports.AuthMethodThirdPerson {
		return r.ThirdPerson.AuthMethods[0].Phone
	}
	return m.Phone
}

// tolerated reports whether err is an answer a flow may give while its database
// connections are being killed: unavailable, or a rule's answer for the state the record
// is in. Anything else (an internal error, a panic's) fails the test.
func tolerated(err error) bool {
	switch verifykit.KindOf(err) {
	case verifykit.KindUnavailable, verifykit.KindConflict, verifykit.KindInvalidInput,
		verifykit.KindBadRequest, verifykit.KindRateLimited, verifykit.KindNotFound, verifykit.KindForbidden:
		return true
	}
	return err == nil
}

// killer terminates, every faultEvery until stop is closed, one backend (at random) of those
// whose application_name is one of names, from a pool of its own.
func killer(pool *pgxpool.Pool, names []string, stop <-chan struct{}) (done <-chan int) {
	out := make(chan int, 1)
	go func() {
		killed := 0
		tick := time.NewTicker(faultEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				out <- killed
				return
			case <-tick.C:
			}
			var n int
			err := pool.QueryRow(context.Background(), `select count(*) from (select pg_terminate_backend(pid)
				from pg_stat_activity where application_name = any($1) and pid <> pg_backend_pid()
				order by random() limit 1) k`, names).Scan(&n)
			if err == nil {
				killed += n
			}
		}
	}()
	return out
}

// ids is a list of record ids that workers add to and pick from concurrently.
type ids struct {
	mu  sync.Mutex
	all []string
}

func (l *ids) add(id string) {
	l.mu.Lock()
	l.all = append(l.all, id)
	l.mu.Unlock()
}

// pick returns a random id of the list; the newest are picked more often, so records
// created during the run go through their whole life.
func (l *ids) pick(rnd *rand.Rand) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.all)
	if rnd.IntN(2) == 0 {
		return l.all[n-1-rnd.IntN(min(n, 4))]
	}
	return l.all[rnd.IntN(n)]
}

func (l *ids) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.all...)
}

// manyCodesPerPhone switches off the abuse controls that the fault tests' traffic would
// meet: their steps aim codes of many requests at a few phones within minutes and verify
// few of them, which the subjects cap and the conversion watch refuse by default.
func manyCodesPerPhone(c *otp.Config) {
	c.MaxSubjectsPerRecipient = 0
	c.Pumping.PrefixDigits = 0
}

// TestFlowsLeaveNoPartialStateWhenConnectionsDie runs every multi-step flow — person
// request create, resend (resend_otp is the same use case), approve; process create,
// resend, validate, cancel, delete; deactivate — on two host instances (two pools, one
// schema) while another connection keeps killing their backends. Afterwards no record is
// half-changed, and every flow works again.
func TestFlowsLeaveNoPartialStateWhenConnectionsDie(t *testing.T) {
	ctx := context.Background()
	base := pgtest.New(t) // checks and set-up; never killed
	sh := newShared()
	var hosts []*host
	var names []string
	for range 2 {
		pool, name := namedPool(t)
		db, err := postgres.New(pool, postgres.Options{Schema: base.Schema()})
		require.NoError(t, err)
		hosts = append(hosts, newHost(t, db, sh, manyCodesPerPhone))
		names = append(names, name)
	}
	setup := newHost(t, base, sh, manyCodesPerPhone)

	var requests, procs ids
	for i := range 4 {
		requests.add(newPersonRequest(t, setup.requests, fmt.Sprintf("+38093%07d", i)).ID)
		p, err := setup.createProcess(ctx)
		require.NoError(t, err)
		procs.add(p.ID)
	}
	require.NoError(t, base.PersonStore().CreatePerson(ctx, ports.PersonRecord{
		ID: "olga", BirthDate: start.AddDate(-40, 0, 0), Status: authmethod.PersonStatusActive, IsActive: true,
		VerificationStatus: authmethod.StatusVerified,
	}))
	for i := range 40 {
		require.NoError(t, base.AuthMethodStore().AddAuthMethod(ctx, ports.AuthMethodRecord{
			ID: fmt.Sprintf("am-%02d", i), PersonID: "olga", Type: authmethod.TypeOTP, Alias: fmt.Sprintf("phone %d", i),
			Phone: fmt.Sprintf("+38067%07d", i), StartedAt: start.AddDate(-1, 0, 0), IsActive: true, IsPrimary: i == 0,
		}))
	}

	var phones atomic.Int64
	underFaults(t, base, names, sh, func(w, _ int, rnd *rand.Rand) error {
		return faultStep(ctx, hosts[w%2], base, sh, rnd, &requests, &procs, &phones)
	})
	requireOutboxMatchesTheChanges(t, base, &requests, &procs)

	// No partial state in any record.
	for _, id := range requests.list() {
		r, err := base.PersonRequestStore().Get(ctx, id)
		require.NoError(t, err)
		requirePersonRequestWhole(t, sh, r)
	}
	for _, id := range procs.list() {
		p, err := base.ProcessStore().Get(ctx, faultOrg, id)
		if errors.Is(err, ports.ErrProcessNotFound) {
			continue // deleted, with its code
		}
		require.NoError(t, err)
		requireProcessWhole(t, p)
	}
	ms, err := base.AuthMethodStore().AuthMethods(ctx, "olga")
	require.NoError(t, err)
	for _, m := range ms {
		require.Equal(t, m.IsActive, m.EndedAt.IsZero(), "method %s: ended exactly when inactive", m.ID)
	}

	// Every flow works again: nothing is left locked or leased. (The pools drop the
	// connections that were killed while idle, as they would on their next health check.)
	for _, h := range hosts {
		h.db.Pool().Reset()
	}
	h := hosts[0]
	sh.clock.Advance(time.Hour)
	for _, id := range requests.list() {
		r, err := h.requests.Get(ctx, personrequest.GetRequest{Token: prToken, ID: id})
		require.NoError(t, err)
		if r.Status != personrequest.StatusNew {
			continue
		}
		_, err = h.requests.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: prToken, ID: id, Alias: "mother"})
		require.NoError(t, err, "request %s can be resent", id)
		stored, err := base.PersonRequestStore().Get(ctx, id)
		require.NoError(t, err)
		code, to, ok := sentCode(sh.sms, stored.Verification.Code.ID)
		require.True(t, ok)
		require.Equal(t, thirdPhone, to)
		_, err = h.requests.Approve(ctx, personrequest.ApproveRequest{Token: prToken, ID: id, Code: code})
		require.NoError(t, err, "request %s can be approved", id)
	}
	for _, id := range procs.list() {
		res, err := h.procs.Resend(ctx, otpprocess.Request{Token: procToken, OrgID: faultOrg, ID: id})
		if err != nil {
			require.True(t, errors.Is(err, verifykit.ErrConflict) || errors.Is(err, verifykit.ErrNotFound), "process %s: %v", id, err)
			continue
		}
		p, err := base.ProcessStore().Get(ctx, faultOrg, res.Process.ID)
		require.NoError(t, err)
		code, _, ok := sentCode(sh.sms, p.Verification.Code.ID)
		require.True(t, ok)
		_, err = h.procs.Validate(ctx, otpprocess.ValidateRequest{Token: procToken, OrgID: faultOrg, ID: id, Code: code, TwoFactor: actorDoc})
		require.NoError(t, err, "process %s can be validated", id)
	}
	p, err := h.createProcess(ctx)
	require.NoError(t, err, "a process can be created")
	require.NotEmpty(t, p.ID)
}

// faultStep runs one randomly chosen flow step on h, over the requests and processes of
// the pools (which it adds to); phones numbers the new requests' phones.
func faultStep(ctx context.Context, h *host, base *postgres.DB, sh shared, rnd *rand.Rand, requests, procs *ids, phones *atomic.Int64) error {
	switch op := rnd.IntN(12); op {
	case 0, 1: // resend, to the person's phone or the third person's
		_, err := h.requests.ResendAuthMethod(ctx, personrequest.ResendRequest{
			Token: prToken, ID: requests.pick(rnd), Alias: []string{"mobile", "mother"}[rnd.IntN(2)],
		})
		return err
	case 2, 3, 4: // approve with the latest code, or with a wrong one
		id := requests.pick(rnd)
		r, err := base.PersonRequestStore().Get(ctx, id)
		if err != nil {
			return err
		}
		code, _, ok := sentCode(sh.sms, r.Verification.Code.ID)
		if !ok || op == 4 {
			code = "000000"
		}
		_, err = h.requests.Approve(ctx, personrequest.ApproveRequest{Token: prToken, ID: id, Code: code})
		return err
	case 5: // a new request
		r, err := h.requests.Create(ctx, personRequestOf(fmt.Sprintf("+38066%07d", phones.Add(1))))
		if err == nil {
			requests.add(r.ID)
		}
		return err
	case 6: // resend a process's code
		_, err := h.procs.Resend(ctx, otpprocess.Request{Token: procToken, OrgID: faultOrg, ID: procs.pick(rnd)})
		return err
	case 7, 8: // validate a process: right code and factor, or a wrong factor
		id := procs.pick(rnd)
		p, err := base.ProcessStore().Get(ctx, faultOrg, id)
		if errors.Is(err, ports.ErrProcessNotFound) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		code, _, ok := sentCode(sh.sms, p.Verification.Code.ID)
		if !ok {
			code = "000000"
		}
		factor := actorDoc
		if op == 8 {
			factor = "WRONG"
		}
		_, err = h.procs.Validate(ctx, otpprocess.ValidateRequest{Token: procToken, OrgID: faultOrg, ID: id, Code: code, TwoFactor: factor})
		return err
	case 9: // a new process
		p, err := h.createProcess(ctx)
		if err == nil {
			procs.add(p.ID)
		}
		return err
	case 10: // cancel or delete a process now and then
		id := procs.pick(rnd)
		var err error
		switch rnd.IntN(4) {
		case 0:
			_, err = h.procs.Cancel(ctx, otpprocess.CancelRequest{Token: procToken, OrgID: faultOrg, ID: id, Reason: "duplicate"})
		case 1:
			_, err = h.procs.Delete(ctx, otpprocess.DeleteRequest{Token: procToken, OrgID: faultOrg, ID: id, Force: true})
		}
		return err
	default: // deactivate one of Olga's methods
		_, err := h.methods.Deactivate(ctx, authmethod.DeactivateRequest{Token: pisToken, MethodID: fmt.Sprintf("am-%02d", 1+rnd.IntN(39))})
		return err
	}
}

// underFaults runs step(w, i, rnd) for workers w = 0..3, faultRuns steps each at most, for
// faultTime at most, moving the shared clock by faultTick before each step, while a killer
// terminates backends of the pools named names. It fails the test on any answer that is not
// tolerated, unless backends were killed, or unless some steps went through.
func underFaults(t *testing.T, base *postgres.DB, names []string, sh shared, step func(w, i int, rnd *rand.Rand) error) {
	t.Helper()
	stop := make(chan struct{})
	kills := killer(base.Pool(), names, stop)
	deadline := time.Now().Add(faultTime)
	var wg sync.WaitGroup
	var unexpected atomic.Value
	var succeeded atomic.Int32
	for w := range 4 {
		wg.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 42))
			for i := 0; i < faultRuns && time.Now().Before(deadline); i++ {
				sh.clock.Advance(faultTick)
				err := step(w, i, rnd)
				if err == nil {
					succeeded.Add(1)
				}
				if !tolerated(err) {
					unexpected.CompareAndSwap(nil, fmt.Sprintf("worker %d step %d: %v (kind %v)", w, i, err, verifykit.KindOf(err)))
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	killed := <-kills
	require.Nil(t, unexpected.Load(), "only tolerated answers while connections die")
	require.Positive(t, killed, "connections were killed while the flows ran")
	require.Positive(t, succeeded.Load(), "steps went through while connections died")
	t.Logf("%d backends killed, %d steps went through", killed, succeeded.Load())
}

// requirePersonRequestWhole fails unless r is in a state that one whole use case, or none,
// left: its code and its status agree, the code went to the current method's phone, and
// its upload URLs are of one generation, signed with (after) its code.
func requirePersonRequestWhole(t *testing.T, sh shared, r ports.PersonRequest) {
	t.Helper()
	c := r.Verification.Code
	switch r.Status {
	case ports.PersonRequestNew:
		require.NotEqual(t, ports.CodeVerified, c.State, "request %s: code consumed but request NEW", r.ID)
	case ports.PersonRequestApproved:
		require.Equal(t, ports.CodeVerified, c.State, "request %s: APPROVED without its code consumed", r.ID)
	}
	if _, to, ok := sentCode(sh.sms, c.ID); ok && (c.State == ports.CodeActive || c.State == ports.CodeVerified) {
		require.Equal(t, currentPhone(r), to, "request %s: its code went to another phone than its current method's", r.ID)
	}
	require.NotEmpty(t, r.Uploads)
	for _, u := range r.Uploads {
		target, err := sh.signer.Check(u.URL, u.ExpiresAt.Add(-time.Nanosecond))
		require.NoError(t, err)
		require.Equal(t, r.UploadVersion, target.Version, "request %s: upload URLs of one generation", r.ID)
		require.True(t, u.ExpiresAt.Equal(r.Uploads[0].ExpiresAt), "request %s: signed together", r.ID)
	}
	if r.UploadVersion > 1 { // a resend draws its code, then signs the URLs it stores with it
		signed := r.Uploads[0].ExpiresAt.Add(-uploadTTL)
		require.False(t, c.CreatedAt.After(signed), "request %s: upload URLs older than the code they came with", r.ID)
	}
	require.True(t, c.ExpiresAt.Equal(c.CreatedAt.Add(codeTTL)))
}

// requireProcessWhole fails unless the state of p and the state of its code agree, and
// its failure counts agree with its code's.
func requireProcessWhole(t *testing.T, p ports.ProcessRecord) {
	t.Helper()
	c := p.Verification.Code
	switch p.State {
	case otpprocess.StateValidated:
		require.Equal(t, ports.CodeVerified, c.State, "process %s: VALIDATED without its code used", p.ID)
	case otpprocess.StateBlocked:
		require.Equal(t, ports.CodeBlocked, c.State, "process %s: BLOCKED with a code that is not", p.ID)
	case otpprocess.StateCreated:
		require.NotContains(t, []ports.CodeState{ports.CodeVerified, ports.CodeBlocked}, c.State, "process %s: CREATED with a used or blocked code", p.ID)
	case otpprocess.StateCancelled:
		require.NotEqual(t, ports.CodeActive, c.State, "process %s: CANCELLED with a live code", p.ID)
	}
	require.Equal(t, p.FailedAttempts, len(p.Verification.Failures), "process %s: failed attempts counted on the process and its code alike", p.ID)
	require.GreaterOrEqual(t, p.CodesSent, 1, "process %s: its first code is counted", p.ID)
}

// faultProxy forwards TCP connections to PostgreSQL. Armed, it cuts the first connection on
// which the server reports a COMMIT done, before the client reads that answer: the change
// is stored, and the caller sees only a broken connection (a lost answer).
type faultProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
	cuts   atomic.Int32
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

// newFaultProxy listens on a loopback port and forwards to target until the test ends.
func newFaultProxy(t testing.TB, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &faultProxy{ln: ln, target: target}
	p.wg.Go(p.serve)
	t.Cleanup(func() {
		_ = ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *faultProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Go(func() { _, _ = io.Copy(server, client); _ = server.Close() })
		p.wg.Go(func() { p.answers(server, client) })
	}
}

// answers copies the server's messages to the client one by one (type byte, length,
// payload: the PostgreSQL wire protocol after start-up without TLS), and cuts both
// connections instead of passing on a CommandComplete "COMMIT" while armed.
func (p *faultProxy) answers(server, client net.Conn) {
	defer func() { _ = client.Close(); _ = server.Close() }()
	var head [5]byte
	for {
		if _, err := io.ReadFull(server, head[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(head[1:])) - 4
		if n < 0 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(server, body); err != nil {
			return
		}
		if head[0] == 'C' && string(body) == "COMMIT\x00" && p.armed.CompareAndSwap(true, false) {
			p.cuts.Add(1)
			return
		}
		if _, err := client.Write(append(head[:], body...)); err != nil {
			return
		}
	}
}

// proxiedDB returns an adapter on schema whose pool reaches PostgreSQL through a new
// faultProxy.
func proxiedDB(t *testing.T, schema string) (*postgres.DB, *faultProxy) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.DSN(t))
	require.NoError(t, err)
	target := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
	proxy := newFaultProxy(t, target)
	host, port, err := net.SplitHostPort(proxy.ln.Addr().String())
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(p)
	cfg.ConnConfig.TLSConfig, cfg.ConnConfig.Fallbacks = nil, nil
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	db, err := postgres.New(pool, postgres.Options{Schema: schema})
	require.NoError(t, err)
	return db, proxy
}

// TestLostAnswerIsRepeatable: when the connection dies right after COMMIT, the approval
// (or validation) is stored but its caller sees a failure; repeating the call answers the
// completed result (RULES §F, idempotent completion).
func TestLostAnswerIsRepeatable(t *testing.T) {
	ctx := context.Background()
	base := pgtest.New(t)
	sh := newShared()
	db, proxy := proxiedDB(t, base.Schema())
	h := newHost(t, db, sh)

	t.Run("approve", func(t *testing.T) {
		r := newPersonRequest(t, h.requests, faultPhone)
		msg, ok := sh.sms.Last(faultPhone)
		require.True(t, ok)
		proxy.armed.Store(true)
		_, err := h.requests.Approve(ctx, personrequest.ApproveRequest{Token: prToken, ID: r.ID, Code: codeIn(msg.Body)})
		require.Equal(t, int32(1), proxy.cuts.Load(), "the answer to the COMMIT was cut")
		require.ErrorIs(t, err, verifykit.ErrUnavailable)
		stored, err := base.PersonRequestStore().Get(ctx, r.ID)
		require.NoError(t, err)
		require.Equal(t, ports.PersonRequestApproved, stored.Status, "the approval was committed")

		again, err := h.requests.Approve(ctx, personrequest.ApproveRequest{Token: prToken, ID: r.ID, Code: codeIn(msg.Body)})
		require.NoError(t, err, "repeating the call succeeds")
		require.Equal(t, personrequest.StatusApproved, again.Status)
		require.True(t, again.UpdatedAt.Equal(stored.UpdatedAt), "with the result of the first call")
	})
	t.Run("validate", func(t *testing.T) {
		p, err := h.createProcess(ctx)
		require.NoError(t, err)
		rec, err := base.ProcessStore().Get(ctx, faultOrg, p.ID)
		require.NoError(t, err)
		code, _, ok := sentCode(sh.sms, rec.Verification.Code.ID)
		require.True(t, ok)
		req := otpprocess.ValidateRequest{Token: procToken, OrgID: faultOrg, ID: p.ID, Code: code, TwoFactor: actorDoc}
		proxy.armed.Store(true)
		_, err = h.procs.Validate(ctx, req)
		require.Equal(t, int32(2), proxy.cuts.Load(), "the answer to the COMMIT was cut")
		require.ErrorIs(t, err, verifykit.ErrUnavailable)
		rec, err = base.ProcessStore().Get(ctx, faultOrg, p.ID)
		require.NoError(t, err)
		require.Equal(t, otpprocess.StateValidated, rec.State, "the validation was committed")

		m, err := h.procs.Validate(ctx, req)
		require.NoError(t, err, "repeating the call succeeds")
		require.Equal(t, otpprocess.StateValidated, m.State)
	})
}

// writeCounter is a pgx tracer that counts the write transactions committed on its pool's
// connections: explicit transactions (begin ... commit) that ran a write, and implicit ones
// (a batch, or one statement, outside begin/commit) that did.
type writeCounter struct {
	mu     sync.Mutex
	inTx   map[*pgx.Conn]bool
	wrote  map[*pgx.Conn]bool
	batch  map[*pgx.Conn]bool // the batch under way on the connection wrote outside a transaction
	writes int
}

func newWriteCounter() *writeCounter {
	return &writeCounter{inTx: map[*pgx.Conn]bool{}, wrote: map[*pgx.Conn]bool{}, batch: map[*pgx.Conn]bool{}}
}

var writeSQL = regexp.MustCompile(`(?is)\binsert\s+into\b|\bdelete\s+from\b|\bupdate\s+\S+\s+set\b`)

// statement accounts for one statement that succeeded on conn. It reports whether it was a
// write outside a transaction.
func (w *writeCounter) statement(conn *pgx.Conn, sql string) (implicitWrite bool) {
	switch strings.ToLower(strings.TrimSpace(sql)) {
	case "begin":
		w.inTx[conn], w.wrote[conn] = true, false
	case "commit":
		if w.inTx[conn] && w.wrote[conn] {
			w.writes++
		}
		w.inTx[conn] = false
	case "rollback":
		w.inTx[conn] = false
	default:
		if !writeSQL.MatchString(sql) {
			return false
		}
		if w.inTx[conn] {
			w.wrote[conn] = true
			return false
		}
		return true
	}
	return false
}

type sqlKey struct{}

// TraceQueryStart implements pgx.QueryTracer.
func (w *writeCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, sqlKey{}, data.SQL)
}

// TraceQueryEnd implements pgx.QueryTracer.
func (w *writeCounter) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	sql, _ := ctx.Value(sqlKey{}).(string)
	if data.Err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.statement(conn, sql) {
		w.writes++
	}
}

// TraceBatchStart implements pgx.BatchTracer.
func (w *writeCounter) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	w.mu.Lock()
	w.batch[conn] = false
	w.mu.Unlock()
	return ctx
}

// TraceBatchQuery implements pgx.BatchTracer.
func (w *writeCounter) TraceBatchQuery(_ context.Context, conn *pgx.Conn, data pgx.TraceBatchQueryData) {
	if data.Err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.statement(conn, data.SQL) {
		w.batch[conn] = true
	}
}

// TraceBatchEnd implements pgx.BatchTracer.
func (w *writeCounter) TraceBatchEnd(_ context.Context, conn *pgx.Conn, data pgx.TraceBatchEndData) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.batch[conn] && data.Err == nil {
		w.writes++
	}
	delete(w.batch, conn)
}

// count returns the writes counted since the last call, and starts again from zero.
func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.writes
	w.writes = 0
	return n
}

// conversionWrites is the write of the conversion watch when a code it sampled is verified.
const conversionWrites = 1

// TestWriteTransactionsPerFlow counts the write transactions each flow commits on
// PostgreSQL, so the count cannot silently grow: a resend and an issue write their
// limiter records (the send and the abuse controls' counters, one batch) and one atomic
// update (a resend to the phone that has the subject's code also gives back the subject it
// counted); a verify, an approval and a validation write one update and the conversion of
// the sampled code.
func TestWriteTransactionsPerFlow(t *testing.T) {
	ctx := context.Background()
	base := pgtest.New(t)
	counter := newWriteCounter()
	pool := pgtest.NewPool(t, func(c *pgxpool.Config) { c.ConnConfig.Tracer = counter })
	db, err := postgres.New(pool, postgres.Options{Schema: base.Schema()})
	require.NoError(t, err)
	sh := newShared()
	h := newHost(t, db, sh)
	counter.count()

	issued, err := h.codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "u1", Recipient: faultPhone})
	require.NoError(t, err)
	require.Equal(t, 2, counter.count(), "issue: the limiter records and the code")
	msg, _ := sh.sms.Last(faultPhone)
	_, err = h.codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "u1", Code: codeIn(msg.Body)})
	require.NoError(t, err)
	require.Equal(t, 1+conversionWrites, counter.count(), "verify: one update and the conversion (code %s)", issued.ID)

	r := newPersonRequest(t, h.requests, faultPhone)
	require.Equal(t, 2, counter.count(), "create: the limiter records and the request with its code")
	sh.clock.Advance(time.Minute)
	_, err = h.requests.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: prToken, ID: r.ID, Alias: "mother"})
	require.NoError(t, err)
	require.Equal(t, 2, counter.count(), "resend: the limiter records and one update")
	msg, _ = sh.sms.Last(thirdPhone)
	_, err = h.requests.Approve(ctx, personrequest.ApproveRequest{Token: prToken, ID: r.ID, Code: codeIn(msg.Body)})
	require.NoError(t, err)
	require.Equal(t, 1+conversionWrites, counter.count(), "approve: one update and the conversion")

	p, err := h.createProcess(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, counter.count(), "process create: the limiter records and the process with its code")
	sh.clock.Advance(time.Minute)
	_, err = h.procs.Resend(ctx, otpprocess.Request{Token: procToken, OrgID: faultOrg, ID: p.ID})
	require.NoError(t, err)
	// A resend to the phone that has the subject's code counts the subject in the batch and
	// gives it back (otp's reserve): one more write than the first send.
	require.Equal(t, 3, counter.count(), "process resend: the limiter records, the subject given back, and one update")
	msg, _ = sh.sms.Last(procPhone)
	_, err = h.procs.Validate(ctx, otpprocess.ValidateRequest{Token: procToken, OrgID: faultOrg, ID: p.ID, Code: codeIn(msg.Body), TwoFactor: actorDoc})
	require.NoError(t, err)
	require.Equal(t, 1+conversionWrites, counter.count(), "validate: one update and the conversion")
}

// TestProfileFlowsLeaveNoPartialStateWhenConnectionsDie runs the profile flows — ask for a
// reset, approve or decline it, reset the identification, update and submit the profile —
// on two host instances while another connection keeps killing their backends. Afterwards
// every change has its audit event, every decided request its decision event, and every
// flow works again.
func TestProfileFlowsLeaveNoPartialStateWhenConnectionsDie(t *testing.T) {
	ctx := context.Background()
	base := pgtest.New(t)
	sh := newShared()
	const operator = "tok-profile-operator"
	exp := start.Add(10 * 365 * 24 * time.Hour)
	sh.tokens.Add(operator, ports.Claims{Subject: "op", ExpiresAt: exp, Permissions: []string{
		identification.PermissionResetIdentificationInitiator, identification.PermissionIdentificationReviewer,
	}})
	users := []string{"user-0", "user-1", "user-2", "user-3"}
	for _, u := range users {
		sh.tokens.Add("tok-"+u, ports.Claims{Subject: u, ExpiresAt: exp})
		require.NoError(t, base.ProfileStore().Create(ctx, ports.ProfileRecord{
			UserID: u, Profile: ports.Profile{
				Type: "base", Status: ports.IdentificationApproved,
				Person:  ports.ProfilePerson{NamePlain: ports.ProfileName{First: "Anna", Last: "Smith"}},
				Address: ports.ProfileAddress{Country: "UA", City: "Kyiv", Street: "Khreshchatyk 1"},
			},
			CreatedAt: start, UpdatedAt: start,
		}))
	}
	var services []*identification.ProfileService
	var names []string
	var pools []*pgxpool.Pool
	for range 2 {
		pool, name := namedPool(t)
		db, err := postgres.New(pool, postgres.Options{Schema: base.Schema()})
		require.NoError(t, err)
		svc, err := identification.NewProfileService(identification.ProfileDeps{
			Profiles: db.ProfileStore(), ResetRequests: db.ResetRequestStore(), Tokens: sh.tokens, Clock: sh.clock,
		}, identification.DefaultProfileConfig())
		require.NoError(t, err)
		services = append(services, svc)
		names = append(names, name)
		pools = append(pools, pool)
	}

	underFaults(t, base, names, sh, func(w, i int, rnd *rand.Rand) error {
		svc := services[w%2]
		u := users[rnd.IntN(len(users))]
		var err error
		switch rnd.IntN(5) {
		case 0:
			_, err = svc.AskForReset(ctx, identification.AskForResetRequest{Token: "tok-" + u, Description: "I moved"})
		case 1:
			var open ports.ResetRequest
			if open, err = base.ResetRequestStore().Open(ctx, u); err == nil {
				decide := svc.ApproveResetRequest
				if rnd.IntN(2) == 0 {
					decide = svc.DeclineResetRequest
				}
				_, err = decide(ctx, identification.DecideResetRequest{Token: operator, UserID: u, RequestID: open.ID})
			} else if errors.Is(err, ports.ErrResetRequestNotFound) {
				err = nil
			}
		case 2:
			_, err = svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: operator, UserID: u, Fields: []string{"address.city"}})
		case 3:
			_, err = svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: "tok-" + u,
				Changes: []identification.ProfileFieldChange{{Path: "address.city", Value: fmt.Sprintf("Lviv %d", i)}}})
		default:
			_, err = svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: "tok-" + u})
		}
		return err
	})

	requests, _, err := base.ResetRequestStore().List(ctx, ports.ResetRequestQuery{Limit: 10_000})
	require.NoError(t, err)
	for _, u := range users {
		p, err := base.ProfileStore().Get(ctx, u)
		require.NoError(t, err)
		events, err := base.ProfileAuditLog().Events(ctx, u)
		require.NoError(t, err)
		var lastReset, lastSubmit time.Time
		decided := map[string]ports.ProfileAuditAction{}
		for _, ev := range events {
			switch ev.Action {
			case ports.AuditIdentificationReset:
				lastReset = ev.At
			case ports.AuditIdentificationSubmitted:
				lastSubmit = ev.At
			case ports.AuditResetRequestApproved, ports.AuditResetRequestDeclined:
				decided[ev.RequestID] = ev.Action
			}
		}
		require.True(t, p.ResetAt.Equal(lastReset), "user %s: the last reset (%v) has its audit event (%v)", u, p.ResetAt, lastReset)
		if p.Profile.Status == ports.IdentificationPending {
			require.False(t, lastSubmit.IsZero(), "user %s: a submitted profile has its submission event", u)
			require.False(t, lastSubmit.Before(lastReset), "user %s: submitted after its last reset", u)
		}
		for _, rr := range requests {
			if rr.UserID != u {
				continue
			}
			switch rr.Status {
			case ports.ResetRequestApproved:
				if decided[rr.ID] == "" {
					// Approved by a reset of the profile, whose event names the request.
					found := false
					for _, ev := range events {
						found = found || (ev.Action == ports.AuditIdentificationReset && ev.RequestID == rr.ID)
					}
					require.True(t, found, "user %s: request %s approved without an event", u, rr.ID)
				} else {
					require.Equal(t, ports.AuditResetRequestApproved, decided[rr.ID], "user %s: request %s", u, rr.ID)
				}
			case ports.ResetRequestDeclined:
				require.Equal(t, ports.AuditResetRequestDeclined, decided[rr.ID], "user %s: request %s declined without its event", u, rr.ID)
			case ports.ResetRequestPending:
				require.NotContains(t, decided, rr.ID, "user %s: request %s has a decision event but is PENDING", u, rr.ID)
			}
		}
	}

	// Every flow works again (the pools first drop the connections killed while idle).
	for _, p := range pools {
		p.Reset()
	}
	svc := services[0]
	for _, u := range users {
		_, err := svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: operator, UserID: u, Fields: []string{"address.city"}})
		require.NoError(t, err, "user %s can be reset", u)
		_, err = svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: "tok-" + u,
			Changes: []identification.ProfileFieldChange{{Path: "address.city", Value: "Odesa"}}})
		require.NoError(t, err)
		res, err := svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: "tok-" + u})
		require.NoError(t, err, "user %s can submit", u)
		require.Equal(t, ports.IdentificationPending, res.Profile.Status)
	}
}

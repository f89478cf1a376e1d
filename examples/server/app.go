package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	_ "time/tzdata" // authmethod counts ages in Europe/Kyiv, even without a system zone database

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// app is the server's services on their adapters, and the stores the demo data goes in.
type app struct {
	handler http.Handler
	storage string // says where what is kept, for the banner
	dev     bool
	close   func()

	clock  ports.Clock
	tokens demoTokens // the demo table; with -jwks-url, the JWT verifier beside it (tokens.go)
	// The senders when the environment configures none (senders.go); outbox is the SMS
	// one with -dev, nil without.
	sms      ports.Sender
	email    ports.Sender
	whatsapp ports.Sender
	outbox   *memory.SMSOutbox

	codeStore    ports.OTPStore
	limiter      ports.RateLimiter
	codeEvents   ports.OutboxStore // -redis with -webhook: the Redis outbox the codes write (redis.go); nil: none of its own
	requestStore ports.PersonRequestStore
	processStore ports.ProcessStore
	profileStore profileSeeder
	resetStore   ports.ResetRequestStore // reads the requests profileStore writes
	persons      personSeeder
	methods      methodSeeder
	confidants   confidantSeeder

	observer ports.Observer  // -otel: the services' Observer (otel.go); nil: none
	tracing  httpapi.Tracing // -otel: the HTTP server spans; nil: none

	requests  *personrequest.Service
	processes *otpprocess.Service
}

// The stores the demo data is written to (demo.go): the ports, with the seeding method
// both adapters' stores have. The flows only read persons, their methods and confidants, and
// never create profiles, so the ports leave these writes out.
type (
	profileSeeder interface {
		ports.ProfileStore
		Create(ctx context.Context, rec ports.ProfileRecord) error
	}
	personSeeder interface {
		ports.PersonStore
		CreatePerson(ctx context.Context, p ports.PersonRecord) error
	}
	methodSeeder interface {
		ports.AuthMethodStore
		AddAuthMethod(ctx context.Context, m ports.AuthMethodRecord) error
	}
	confidantSeeder interface {
		ports.ConfidantStore
		AddConfidantRelationship(ctx context.Context, r ports.ConfidantRelationship) error
	}
)

// newApp builds every service, its stores in PostgreSQL when cfg.postgresDSN is set (the
// tokens and the SMS outbox stay in memory), else in memory; then it loads the demo data.
func newApp(ctx context.Context, cfg config, logger *slog.Logger) (*app, error) {
	profiles := memory.NewProfileStore()
	a := &app{
		dev: cfg.dev, close: func() {}, clock: ports.SystemClock{},
		tokens:    memory.NewTokens(),
		codeStore: memory.NewOTPStore(), limiter: memory.NewRateLimiter(),
		requestStore: memory.NewPersonRequestStore(), processStore: memory.NewProcessStore(),
		profileStore: profiles, resetStore: profiles.ResetRequests(),
		persons: memory.NewPersonStore(), methods: memory.NewAuthMethodStore(), confidants: memory.NewConfidantStore(),
		storage: "memory",
	}
	if cfg.postgresDSN != "" {
		if err := a.usePostgres(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if err := a.useRedis(ctx, cfg); err != nil {
		a.close()
		return nil, err
	}
	if err := a.useTokenVerifier(ctx, cfg.tokens, logger); err != nil {
		a.close()
		return nil, err
	}
	logger, err := a.useOTel(ctx, cfg.otel, logger) // -otel (otel.go)
	if err != nil {
		a.close()
		return nil, err
	}

	a.useSenders(cfg.dev, logger) // senders.go
	secret := []byte(cfg.otpSecret)
	if cfg.otpSecret == "" {
		secret = []byte(rand.Text() + rand.Text()) // 52 random characters
	}
	ocfg := otp.DefaultConfig()
	ocfg.Secrets = [][]byte{secret}
	codes, err := otp.NewService(otp.Deps{Store: a.codeStore, SMS: a.sms, Limiter: a.limiter, Clock: a.clock, Logger: logger, Observer: a.observer}, ocfg)
	if err != nil {
		a.close()
		return nil, err
	}
	services, err := a.services(codes, logger)
	if err != nil {
		a.close()
		return nil, err
	}
	api, err := httpapi.New(services, httpapi.Options{Logger: logger, Tracing: a.tracing})
	if err != nil {
		a.close()
		return nil, err
	}
	a.handler = api
	if cfg.dev {
		mux := http.NewServeMux()
		mux.Handle("/", api)
		mux.HandleFunc("GET /dev/sms", a.serveSMS)
		a.handler = mux
	}
	if err := a.useDelivery(ocfg, logger); err != nil {
		a.close()
		return nil, err
	}
	a.mountConsole(logger) // the operator console at /console/ (console.go)
	// -webhook: the lifecycle events' dispatcher (events.go).
	if err := a.useEvents(ctx, cfg, logger); err != nil {
		a.close()
		return nil, err
	}
	if err := a.loadDemo(ctx); err != nil {
		a.close()
		return nil, fmt.Errorf("demo data: %w", err)
	}
	return a, nil
}

// usePostgres puts every store in the PostgreSQL schema of cfg, migrated first.
func (a *app) usePostgres(ctx context.Context, cfg config) error {
	db, err := postgres.Open(ctx, cfg.postgresDSN, postgres.Options{Schema: cfg.postgresSchema})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return fmt.Errorf("postgres: %w", err)
	}
	a.close = db.Close
	a.codeStore, a.limiter = db.OTPStore(), db.RateLimiter()
	a.requestStore, a.processStore = db.PersonRequestStore(), db.ProcessStore()
	a.profileStore, a.resetStore = db.ProfileStore(), db.ResetRequestStore()
	a.persons, a.methods, a.confidants = db.PersonStore(), db.AuthMethodStore(), db.ConfidantStore()
	a.storage = "PostgreSQL schema " + db.Schema() + " (tokens and the SMS outbox in memory)"
	return nil
}

// services builds the four domain services on a's stores.
func (a *app) services(codes *otp.Service, logger *slog.Logger) (httpapi.Services, error) {
	var s httpapi.Services
	var err error
	if a.requests, err = personrequest.NewService(personrequest.Deps{
		Store: a.requestStore, OTP: codes, Tokens: a.tokens, Uploads: memory.NewUploadSigner(), Clock: a.clock, Logger: logger, Observer: a.observer,
	}, personrequest.DefaultConfig()); err != nil {
		return s, err
	}
	if a.processes, err = otpprocess.NewService(otpprocess.Deps{
		Store: a.processStore, OTP: codes, Tokens: a.tokens, Clock: a.clock, Logger: logger, Observer: a.observer,
		Email: a.email, WhatsApp: a.whatsapp,
	}, otpprocess.DefaultConfig()); err != nil {
		return s, err
	}
	profiles, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: a.profileStore, ResetRequests: a.resetStore,
		Tokens: a.tokens, Clock: a.clock, Logger: logger, Observer: a.observer,
	}, identification.DefaultProfileConfig())
	if err != nil {
		return s, err
	}
	methods, err := authmethod.NewService(authmethod.Deps{
		Persons: a.persons, Methods: a.methods, Confidants: a.confidants, Tokens: a.tokens, Clock: a.clock, Logger: logger, Observer: a.observer,
	}, authmethod.DefaultConfig())
	if err != nil {
		return s, err
	}
	return httpapi.Services{Profiles: profiles, Processes: a.processes, PersonRequests: a.requests, AuthMethods: methods}, nil
}

// smsEntry is one message of GET /dev/sms.
type smsEntry struct {
	To   string `json:"to"`
	Body string `json:"body"`
}

// serveSMS answers GET /dev/sms: the SMS outbox, oldest first, or only the messages to
// ?to=<phone>. Development only: it shows the codes.
func (a *app) serveSMS(w http.ResponseWriter, r *http.Request) {
	to := r.URL.Query().Get("to")
	out := []smsEntry{}
	for _, m := range a.outbox.Messages() {
		if to == "" || m.To == to {
			out = append(out, smsEntry{To: m.To, Body: m.Body})
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"messages": out})
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	_ "time/tzdata" // authmethod counts ages in Europe/Kyiv, even without a system zone database

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/identification"
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

	clock          ports.Clock
	tokens         *memory.Tokens
	sms            *memory.SMSOutbox
	requestStore   *memory.PersonRequestStore
	requests       *personrequest.Service
	processStore   *memory.ProcessStore
	processes      *identification.ProcessService
	profileStore   *memory.ProfileStore
	persons        *memory.PersonStore
	methods        *memory.AuthMethodStore
	confidants     *memory.ConfidantStore
	authMethodsSvc *authmethod.Service
}

// newApp builds every service: the stores adapters/postgres has (one-time codes, rate
// limits) in PostgreSQL when cfg.postgresDSN is set, everything else in memory; then it
// loads the demo data.
func newApp(ctx context.Context, cfg config, logger *slog.Logger) (*app, error) {
	a := &app{
		dev: cfg.dev, close: func() {}, clock: ports.SystemClock{},
		tokens: memory.NewTokens(), sms: memory.NewSMSOutbox(),
		requestStore: memory.NewPersonRequestStore(), processStore: memory.NewProcessStore(),
		profileStore: memory.NewProfileStore(),
		persons:      memory.NewPersonStore(), methods: memory.NewAuthMethodStore(), confidants: memory.NewConfidantStore(),
		storage: "memory (everything)",
	}
	var codeStore ports.OTPStore = memory.NewOTPStore()
	var limiter ports.RateLimiter = memory.NewRateLimiter()
	if cfg.postgresDSN != "" {
		pool, err := pgxpool.New(ctx, cfg.postgresDSN)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		a.close = pool.Close
		db, err := postgres.New(pool, postgres.Options{Schema: cfg.postgresSchema})
		if err == nil {
			err = db.Migrate(ctx)
		}
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres: %w", err)
		}
		codeStore, limiter = db.OTPStore(), db.RateLimiter()
		a.storage = "PostgreSQL schema " + db.Schema() + " (one-time codes, rate limits); memory (person requests, processes, profiles, persons, authentication methods)"
	}

	secret := []byte(cfg.otpSecret)
	if cfg.otpSecret == "" {
		secret = []byte(rand.Text() + rand.Text()) // 52 random characters
	}
	ocfg := otp.DefaultConfig()
	ocfg.Secrets = [][]byte{secret}
	codes, err := otp.NewService(otp.Deps{Store: codeStore, SMS: a.sms, Limiter: limiter, Clock: a.clock, Logger: logger}, ocfg)
	if err != nil {
		a.close()
		return nil, err
	}
	services, err := a.services(codes, logger)
	if err != nil {
		a.close()
		return nil, err
	}
	api, err := httpapi.New(services, httpapi.Options{Logger: logger})
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
	if err := a.loadDemo(ctx); err != nil {
		a.close()
		return nil, fmt.Errorf("demo data: %w", err)
	}
	return a, nil
}

// services builds the four domain services on a's stores.
func (a *app) services(codes *otp.Service, logger *slog.Logger) (httpapi.Services, error) {
	var s httpapi.Services
	var err error
	if a.requests, err = personrequest.NewService(personrequest.Deps{
		Store: a.requestStore, OTP: codes, Tokens: a.tokens, Uploads: memory.NewUploadSigner(), Clock: a.clock, Logger: logger,
	}, personrequest.DefaultConfig()); err != nil {
		return s, err
	}
	if a.processes, err = identification.NewProcessService(identification.ProcessDeps{
		Store: a.processStore, OTP: codes, Tokens: a.tokens, Clock: a.clock, Logger: logger,
		Email: memory.NewEmailOutbox(), WhatsApp: memory.NewWhatsAppOutbox(),
	}, identification.DefaultProcessConfig()); err != nil {
		return s, err
	}
	profiles, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: a.profileStore, ResetRequests: memory.NewResetRequestStore(), Audit: memory.NewProfileAuditLog(),
		Tokens: a.tokens, Clock: a.clock, Logger: logger,
	}, identification.DefaultProfileConfig())
	if err != nil {
		return s, err
	}
	if a.authMethodsSvc, err = authmethod.NewService(authmethod.Deps{
		Persons: a.persons, Methods: a.methods, Confidants: a.confidants, Tokens: a.tokens, Clock: a.clock, Logger: logger,
	}, authmethod.DefaultConfig()); err != nil {
		return s, err
	}
	return httpapi.Services{Profiles: profiles, Processes: a.processes, PersonRequests: a.requests, AuthMethods: a.authMethodsSvc}, nil
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
	for _, m := range a.sms.Messages() {
		if to == "" || m.To == to {
			out = append(out, smsEntry{To: m.To, Body: m.Body})
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"messages": out})
}

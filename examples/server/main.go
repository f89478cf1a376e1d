// Command server serves verifykit's HTTP API (adapters/httpapi) on the memory adapters,
// with demo data, so that the four flows can be tried with curl:
//
//	go run ./examples/server -dev
//
// It prints the demo tokens, ids and ready-to-paste curl lines at start-up. -dev adds
// GET /dev/sms, the SMS outbox, to read the codes. -postgres DSN keeps every store in
// PostgreSQL (adapters/postgres, migrated at start-up) instead of memory; the demo tokens
// and the SMS outbox stay in memory. SIGINT or SIGTERM shut the server down gracefully.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	vkredis "github.com/verifykit/verifykit/adapters/redis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	addr           string
	dev            bool
	postgresDSN    string
	postgresSchema string
	redisAddrs     string
	redisPrefix    string
	otpSecret      string
	tokens         tokenFlags
	logLevel       slog.Level
	shutdownAfter  time.Duration
	otel           string
	events         eventFlags
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	fs.BoolVar(&c.dev, "dev", false, "add GET /dev/sms, the SMS outbox, to read the one-time codes")
	fs.StringVar(&c.postgresDSN, "postgres", "", "PostgreSQL DSN: keep every store there (migrated at start-up); default memory")
	fs.StringVar(&c.postgresSchema, "postgres-schema", "verifykit", "PostgreSQL schema of -postgres")
	fs.StringVar(&c.redisAddrs, "redis", "", "Redis address(es), comma-separated (several: a Redis Cluster): keep standalone codes and rate limits there (with -webhook, the codes' events too)")
	fs.StringVar(&c.redisPrefix, "redis-prefix", vkredis.DefaultPrefix, "prefix of every key -redis writes")
	fs.StringVar(&c.otpSecret, "otp-secret", os.Getenv("VERIFYKIT_OTP_SECRET"), "HMAC secret of one-time codes, at least 32 bytes (default $VERIFYKIT_OTP_SECRET, else a random secret per start)")
	addTokenFlags(fs, &c.tokens) // -jwks-url, -issuer, -audience (tokens.go)
	addEventFlags(fs, &c.events) // -webhook, -webhook-secret (events.go)
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level: DEBUG, INFO, WARN or ERROR")
	fs.DurationVar(&c.shutdownAfter, "shutdown-timeout", 10*time.Second, "how long a graceful shutdown waits for requests in flight")
	fs.StringVar(&c.otel, "otel", "", "OpenTelemetry traces and metrics: stdout, otlp (OTLP/HTTP to $OTEL_EXPORTER_OTLP_ENDPOINT) or off (default: $OTEL_TRACES_EXPORTER/$OTEL_METRICS_EXPORTER, otlp when an OTLP endpoint is set; otel.go)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	return c, nil
}

// run serves until ctx is done, then shuts down gracefully. It writes the start-up banner
// and the logs to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: cfg.logLevel}))
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.close()

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	base := "http://" + ln.Addr().String()
	a.printBanner(stdout, base)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownAfter)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/adapters/webhook"
	"github.com/verifykit/verifykit/ports"
)

// eventFlags are the flags of the lifecycle events' webhook.
type eventFlags struct {
	url    string
	secret string
}

// addEventFlags adds -webhook and -webhook-secret to fs.
func addEventFlags(fs *flag.FlagSet, c *eventFlags) {
	fs.StringVar(&c.url, "webhook", "", "URL that receives every lifecycle event, signed Standard-Webhooks style (default: none)")
	fs.StringVar(&c.secret, "webhook-secret", "", "secret of -webhook: whsec_ followed by base64")
}

// useEvents starts, with -webhook, the dispatchers that post the outboxes' events to the
// URL until ctx is done. On PostgreSQL the stores always write the outbox table; the
// dispatcher reads it through a small pool of its own. In memory the stores publish to a
// memory outbox only once it is attached here (without -webhook they drop their events,
// but the profile store, whose events are its audit log, keeps them in an outbox of its
// own). With -redis the standalone codes write their events to the Redis outbox
// (redis.go), which a second dispatcher delivers to the same URL. The dispatchers purge
// delivered events after a week, never the profile ones.
func (a *app) useEvents(ctx context.Context, cfg config, logger *slog.Logger) error {
	if cfg.events.url == "" {
		return nil
	}
	var outboxes []ports.OutboxStore
	if cfg.postgresDSN != "" {
		db, err := postgres.Open(ctx, cfg.postgresDSN, postgres.Options{Schema: cfg.postgresSchema})
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		closeStores := a.close
		a.close = func() { db.Close(); closeStores() }
		outboxes = append(outboxes, db.Outbox())
	} else {
		o := memory.NewOutbox()
		for _, s := range []any{a.codeStore, a.requestStore, a.processStore, a.profileStore, a.methods} {
			if p, ok := s.(interface{ PublishTo(*memory.Outbox) }); ok {
				p.PublishTo(o)
			}
		}
		outboxes = append(outboxes, o)
	}
	if a.codeEvents != nil {
		outboxes = append(outboxes, a.codeEvents)
	}
	for _, o := range outboxes {
		d, err := webhook.NewDispatcher(webhook.DispatcherConfig{
			Outbox: o, Clock: a.clock, Logger: logger,
			Endpoints: []webhook.Endpoint{{Name: "webhook", URL: cfg.events.url, Secret: cfg.events.secret}},
		})
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		go func() { _ = d.Run(ctx, time.Second) }()
	}
	a.storage += "; lifecycle events to " + cfg.events.url
	if a.codeEvents != nil {
		a.storage += " (the standalone codes' from the Redis outbox)"
	}
	return nil
}

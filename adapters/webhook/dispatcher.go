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
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-retry"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// Endpoint is an HTTP receiver of events: each event whose type it wants is POSTed to URL
// as JSON ({"type", "timestamp", "data": the event}), signed like the Sender's requests
// (Standard Webhooks: webhook-id is the event's id, the same on every retry;
// webhook-timestamp is the time of the try). A 2xx answer delivers it; anything else, or
// no answer, is retried.
type Endpoint struct {
	// Name identifies the endpoint among the targets: the outbox records, by name, which
	// targets got an event, so a retry skips them. Default: the URL without its query.
	// Keep it stable across restarts.
	Name string
	// URL receives the events. Required: http or https.
	URL string
	// Secret signs every request: "whsec_" followed by base64. Required.
	Secret string
	// Types are the event types it wants: an exact type ("personrequest.approved") or a
	// prefix ending in "." or "*" ("personrequest.", "code.*"). Empty: every event.
	Types []string
}

// Subscriber is a Go receiver of events, called in the dispatcher's goroutine. An error
// makes the dispatcher try the event again later (Handle must then tolerate a repeat: its
// events may come more than once, recognisable by their ID).
type Subscriber struct {
	// Name identifies the subscriber among the targets. Required; keep it stable.
	Name string
	// Types filters the events as Endpoint.Types does. Empty: every event.
	Types []string
	// Handle receives one event. Required.
	Handle func(ctx context.Context, ev ports.LifecycleEvent) error
}

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	// Outbox is where the events are read. Required.
	Outbox ports.OutboxStore
	// Endpoints and Subscribers are the targets of the events.
	Endpoints   []Endpoint
	Subscribers []Subscriber
	// Client posts to the endpoints. Default: a client with a 10-second timeout.
	Client *http.Client
	// Clock tells the time. Default: the system clock.
	Clock ports.Clock
	// Logger receives one record per failed or dead delivery (never a secret). Default:
	// discard.
	Logger *slog.Logger
	// Batch is how many events one DispatchOnce claims. Default 100.
	Batch int
	// Lease is how long a claimed batch stays with this dispatcher before another may claim
	// it again. Default one minute; keep it longer than a batch takes.
	Lease time.Duration
	// BaseDelay, MaxDelay and JitterPercent shape the wait before each retry: exponential
	// from BaseDelay, capped at MaxDelay, jittered by ±JitterPercent. Defaults 30s, 1h, 20.
	BaseDelay     time.Duration
	MaxDelay      time.Duration
	JitterPercent uint64
	// MaxAttempts is how many failed tries make an event dead. Default 16: with the default
	// delays, about ten hours of tries.
	MaxAttempts int
	// Retention is how long a delivered event stays in the outbox: Run purges the events
	// delivered longer ago each interval (Purge). The events of ports.AuditAggregateTypes
	// (the profile audit trail, which ports.ProfileAuditLog reads from the outbox) are
	// never purged by the dispatcher: the host drops old ones itself, with
	// OutboxStore.Purge. Default 7 days; negative: never purge.
	Retention time.Duration
}

// DefaultRetention is the default DispatcherConfig.Retention.
const DefaultRetention = 7 * 24 * time.Hour

// purgeBatch is how many entries one OutboxStore.Purge of Dispatcher.Purge deletes at most.
const purgeBatch = 1000

// Dispatcher delivers the events of an outbox to subscribers and endpoints, at least once:
// an event is marked delivered only after every target that wants it got it, and a target
// that got it is recorded so a retry skips it. Several dispatchers may share one outbox
// (the PostgreSQL and Redis ones lease what they hand out). After MaxAttempts failed tries an event is
// dead: DeadLetters lists it and Redrive sends it again. Delivered events are purged after
// Retention, except the audit trail's.
type Dispatcher struct {
	cfg DispatcherConfig
	log *slog.Logger
}

// NewDispatcher checks cfg and returns a Dispatcher; a KindInvalidInput error names every
// bad field.
func NewDispatcher(cfg DispatcherConfig) (*Dispatcher, error) {
	var v verifykit.Validation
	bad := func(entry, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: entry, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if cfg.Outbox == nil {
		bad("Outbox", "required", "is required")
	}
	cfg.Endpoints, cfg.Subscribers = slices.Clone(cfg.Endpoints), slices.Clone(cfg.Subscribers)
	names := map[string]bool{}
	for i := range cfg.Endpoints {
		e := &cfg.Endpoints[i]
		at := fmt.Sprintf("Endpoints[%d]", i)
		u, err := url.Parse(e.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(at+".URL", "format", "must be an http or https URL")
		} else if e.Name == "" {
			// Scheme and host only: a webhook URL's path often carries a token, and the
			// name goes into the outbox's last_error and into logs.
			e.Name = u.Scheme + "://" + u.Host
		}
		if _, err := key(e.Secret); err != nil {
			bad(at+".Secret", "format", "must be whsec_ followed by base64")
		}
		if names[e.Name] {
			bad(at+".Name", "unique", "names another target too")
		}
		names[e.Name] = true
		e.Types = slices.Clone(e.Types)
	}
	for i := range cfg.Subscribers {
		sub := &cfg.Subscribers[i]
		at := fmt.Sprintf("Subscribers[%d]", i)
		if sub.Name == "" {
			bad(at+".Name", "required", "is required")
		} else if names[sub.Name] {
			bad(at+".Name", "unique", "names another target too")
		}
		names[sub.Name] = true
		if sub.Handle == nil {
			bad(at+".Handle", "required", "is required")
		}
		sub.Types = slices.Clone(sub.Types)
	}
	for _, n := range []struct {
		entry string
		bad   bool
	}{{"Batch", cfg.Batch < 0}, {"Lease", cfg.Lease < 0}, {"BaseDelay", cfg.BaseDelay < 0}, {"MaxDelay", cfg.MaxDelay < 0}, {"MaxAttempts", cfg.MaxAttempts < 0}} {
		if n.bad {
			bad(n.entry, "positive", "must not be negative")
		}
	}
	if cfg.JitterPercent > 100 {
		bad("JitterPercent", "range", "must be at most 100")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		// A redirect is a failed delivery: following it would turn the POST into a
		// body-less GET and send the signature headers to another host.
		cfg.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if cfg.Clock == nil {
		cfg.Clock = ports.SystemClock{}
	}
	if cfg.Batch == 0 {
		cfg.Batch = 100
	}
	if cfg.Lease == 0 {
		cfg.Lease = time.Minute
	}
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay = 30 * time.Second
	}
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = time.Hour
	}
	if cfg.JitterPercent == 0 {
		cfg.JitterPercent = 20
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 16
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{cfg: cfg, log: log}, nil
}

// wants reports whether a target with the filter types wants events of type typ.
func wants(types []string, typ string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		switch {
		case t == typ:
			return true
		case strings.HasSuffix(t, "*") && strings.HasPrefix(typ, strings.TrimSuffix(t, "*")):
			return true
		case strings.HasSuffix(t, ".") && strings.HasPrefix(typ, t):
			return true
		}
	}
	return false
}

// NextAttempt is when an event that failed attempts times (1 for the first failure) is
// tried again, counted from now: exponential from BaseDelay, capped at MaxDelay, with
// jitter (go-retry's backoffs).
func (d *Dispatcher) NextAttempt(now time.Time, attempts int) time.Time {
	b := retry.NewExponential(d.cfg.BaseDelay)
	b = retry.WithCappedDuration(d.cfg.MaxDelay, b)
	b = retry.WithJitterPercent(d.cfg.JitterPercent, b)
	var wait time.Duration
	for range max(attempts, 1) {
		wait, _ = b.Next()
	}
	return now.Add(wait)
}

// DispatchOnce claims one batch of due events and delivers each to its targets; it returns
// how many it claimed. A failed delivery is not an error of DispatchOnce: the event is
// retried later, or becomes dead. The error is the outbox's (claiming or recording).
//
// It stops before an entry once ctx is done, or once less than a tenth of the lease is
// left: the entries it did not get to are claimed again when their lease runs out, by this
// dispatcher or another, and no two dispatchers deliver one entry at the same time. What a
// delivery that happened has to record is recorded even when ctx ends meanwhile, and the
// outbox refuses it when the lease was lost (ports.ErrOutboxLeaseLost).
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	now := d.cfg.Clock.Now()
	entries, err := d.cfg.Outbox.Claim(ctx, now, d.cfg.Lease, d.cfg.Batch)
	if err != nil {
		return 0, err
	}
	margin := d.cfg.Lease / 10
	var errs []error
	for _, e := range entries {
		if ctx.Err() != nil || !d.cfg.Clock.Now().Before(e.LockedUntil.Add(-margin)) {
			break
		}
		if err := d.deliver(ctx, e); err != nil {
			errs = append(errs, err)
		}
	}
	return len(entries), errors.Join(errs...)
}

// recordTimeout bounds a write that records what a delivery did, once ctx may be done.
const recordTimeout = 5 * time.Second

// recording returns a context for recording the outcome of a delivery that happened: not
// cancelled with ctx, bounded by recordTimeout.
func recording(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

// Run calls DispatchOnce every interval (at once again while batches come back full) until
// ctx is done, and returns ctx's error; each interval it also purges what Retention lets go
// (Purge). Outbox errors are logged and retried at the next interval.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := d.DispatchOnce(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "events dispatch failed", "error", err.Error())
		}
		if n == d.cfg.Batch && err == nil {
			continue
		}
		if _, err := d.Purge(ctx, d.cfg.Clock.Now()); err != nil && ctx.Err() == nil {
			d.log.WarnContext(ctx, "events purge failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Purge deletes from the outbox the events delivered before now minus Retention, except
// those of ports.AuditAggregateTypes, in batches (OutboxStore.Purge) until one comes back
// short or ctx is done, and returns how many it deleted. With a negative Retention it
// deletes nothing. Several dispatchers may purge one outbox at once.
func (d *Dispatcher) Purge(ctx context.Context, now time.Time) (int, error) {
	if d.cfg.Retention < 0 {
		return 0, nil
	}
	req := ports.PurgeRequest{DeliveredBefore: now.Add(-d.cfg.Retention), KeepAggregateTypes: ports.AuditAggregateTypes, Limit: purgeBatch}
	total := 0
	for {
		n, err := d.cfg.Outbox.Purge(ctx, req)
		total += n
		if err != nil || n < purgeBatch || ctx.Err() != nil {
			return total, err
		}
	}
}

// DeadLetters lists up to limit dead events.
func (d *Dispatcher) DeadLetters(ctx context.Context, limit int) ([]ports.OutboxEntry, error) {
	return d.cfg.Outbox.DeadLetters(ctx, limit)
}

// Redrive makes the dead event id due again now, with a fresh set of tries.
func (d *Dispatcher) Redrive(ctx context.Context, id string) error {
	return d.cfg.Outbox.Redrive(ctx, id, d.cfg.Clock.Now())
}

// deliver hands e to every target that wants it and has not got it, then records the
// outcome in the outbox.
func (d *Dispatcher) deliver(ctx context.Context, e ports.OutboxEntry) error {
	ev := e.Event
	var failures []string
	try := func(name string, types []string, send func() error) error {
		if !wants(types, ev.Type) || slices.Contains(e.DeliveredTo, name) {
			return nil
		}
		if err := send(); err != nil {
			failures = append(failures, name+": "+err.Error())
			return nil
		}
		rctx, cancel := recording(ctx)
		defer cancel()
		return d.cfg.Outbox.MarkDelivered(rctx, e, name)
	}
	for _, sub := range d.cfg.Subscribers {
		if err := try(sub.Name, sub.Types, func() error { return handle(ctx, sub.Handle, ev) }); err != nil {
			return err
		}
	}
	for _, ep := range d.cfg.Endpoints {
		if err := try(ep.Name, ep.Types, func() error { return d.post(ctx, ep, ev) }); err != nil {
			return err
		}
	}
	now := d.cfg.Clock.Now()
	rctx, cancel := recording(ctx)
	defer cancel()
	if len(failures) == 0 {
		return d.cfg.Outbox.Ack(rctx, e, now)
	}
	lastErr := strings.Join(failures, "; ")
	attempts := e.Attempts + 1
	attrs := []any{"event_id", ev.ID, "type", ev.Type, "attempts", attempts, "error", lastErr}
	if attempts >= d.cfg.MaxAttempts {
		d.log.WarnContext(ctx, "event delivery dead after its last try", attrs...)
		return d.cfg.Outbox.Dead(rctx, e, lastErr)
	}
	d.log.InfoContext(ctx, "event delivery failed; retrying", attrs...)
	return d.cfg.Outbox.Retry(rctx, e, d.NextAttempt(now, attempts), lastErr)
}

// handle calls h, turning a panic into an error so one subscriber cannot stop dispatching.
func handle(ctx context.Context, h func(context.Context, ports.LifecycleEvent) error, ev ports.LifecycleEvent) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New("subscriber panicked") // its value may quote anything: not kept
		}
	}()
	if err := h(ctx, ev.Clone()); err != nil {
		return errors.New("subscriber failed") // its text may quote anything: not kept
	}
	return nil
}

// eventPayload is the JSON body of an event's webhook request.
type eventPayload struct {
	Type      string               `json:"type"`
	Timestamp time.Time            `json:"timestamp"`
	Data      ports.LifecycleEvent `json:"data"`
}

// EventBody is the body the dispatcher posts for ev: the Standard Webhooks payload shape.
func EventBody(ev ports.LifecycleEvent) ([]byte, error) {
	return json.Marshal(eventPayload{Type: ev.Type, Timestamp: ev.Time.UTC(), Data: ev})
}

// post delivers ev to ep once.
func (d *Dispatcher) post(ctx context.Context, ep Endpoint, ev ports.LifecycleEvent) error {
	body, err := EventBody(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("bad request")
	}
	req.Header.Set("Content-Type", "application/json")
	if err := SetHeaders(req.Header, ep.Secret, ev.ID, d.cfg.Clock.Now(), body); err != nil {
		return err
	}
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return errors.New("no answer") // the transport's text names the URL
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errors.New("status " + strconv.Itoa(resp.StatusCode))
	}
	return nil
}

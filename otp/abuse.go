package otp

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// Abuse controls. Every recipient without an "@" is a phone number: it must be valid in
// its country's numbering plan (ports.ParsePhone) and is used in its E.164 form. Before a
// code to a phone is stored or sent, the engine refuses, in this order and changing
// nothing when it refuses:
//
//   - regions a host has not allowed, and number types it refuses (PhoneRules; by default
//     premium-rate, shared-cost, VoIP and fixed-line numbers): KindInvalidInput naming
//     "$.recipient", which flows rename to their own field;
//   - a prefix the pumping guard paused, a recipient whose failure budget is used up
//     (RecipientFailureLimit), the send limits, the calling code's send budget
//     (PumpingGuard.CallingCodeLimits), and more distinct subjects with a code for one
//     recipient than MaxSubjectsPerRecipient: KindRateLimited with RetryAfter.
//
// The pumping guard's conversion watch samples up to MinSends sends per prefix in each
// Window and counts how many of the sampled codes were verified: when a full sample holds
// fewer than MinConversion of them, sends to the prefix pause for CoolDown and a warning is
// logged. Its counters, like every other, live in the ports.RateLimiter, so every instance
// sharing a limiter (memory within one process, PostgreSQL across many) sees them.
//
// Verify-side counting needs the recipient, which a Verification does not hold: a code
// whose recipient is counted carries a keyed tag of its recipient (and, when sampled, its
// prefix) in its ID, after the UUID: "<uuid>.<tag>[.<prefix>]". Verify (and RecordFailure)
// decide the recipient's failure budget before the attempt is stored: a wrong guess
// reserves a failure of it, any other attempt finds it not used up, and once it is used up
// every attempt on a code sent to that recipient is refused, changing nothing (see
// attemptStored); a verified sampled code counts as a conversion once its write
// committed. A flow that checks codes inside its own record (Check, CheckBound,
// CountFailure within the record's Update) guards the check with a CheckGuard: the
// recipient's budget is decided before the write in the same way, so that the budget holds
// across every record aimed at one recipient, and a check it refuses changes nothing.

// PhoneRules sets which phone numbers codes may be sent to.
type PhoneRules struct {
	// AllowedRegions, when not empty, are the only regions (ISO 3166-1 alpha-2, "001" for
	// non-geographic numbers) codes are sent to.
	AllowedRegions []string
	// BlockedRegions are regions codes are never sent to.
	BlockedRegions []string
	// RefusedTypes are the number types codes are never sent to. Default:
	// DefaultRefusedTypes. FIXED_LINE_OR_MOBILE (numbering plans that do not tell them
	// apart, as in the US) is allowed unless it is listed.
	RefusedTypes []ports.PhoneType
}

// DefaultRefusedTypes are the number types refused by default: premium-rate and shared-cost
// numbers (the targets of SMS pumping), VoIP numbers (NIST SP 800-63B-4: out-of-band
// secrets must not go to them) and fixed lines (they receive no SMS).
func DefaultRefusedTypes() []ports.PhoneType {
	return []ports.PhoneType{ports.PhonePremiumRate, ports.PhoneSharedCost, ports.PhoneVoIP, ports.PhoneFixedLine}
}

// PumpingGuard limits sends by country calling code and watches the conversion of codes
// per number prefix. DefaultPumpingGuard (the guard of DefaultConfig) turns both on; the
// zero value turns both off. To turn off one of them, set CallingCodeLimits to nil (no
// budgets) or PrefixDigits to 0 (no conversion watch).
type PumpingGuard struct {
	// CallingCodeLimits limit the sends to each country calling code. Default: 5,000 per
	// hour and 50,000 per day (DefaultCallingCodeLimits), a backstop that a normal host
	// never meets; a host that sends more to one country sets them from its traffic. None
	// (nil): no budget.
	CallingCodeLimits []ports.RateLimit
	// PrefixDigits is how many leading digits of the E.164 number (without "+") make a
	// prefix for the conversion watch, e.g. 6 ("380931"). Default 6. 0 turns the watch off.
	PrefixDigits int
	// MinSends is the size of a full sample: the watch judges a prefix once MinSends
	// sends to it in Window were sampled. Default 100.
	MinSends int
	// MinConversion is the share of sampled codes that must be verified (0 to 1): below
	// it, the prefix pauses. Default 0.05: 5 of a sample of 100, far below the share of
	// codes people verify, far above the none of a pumping attack. 0 samples but never
	// pauses.
	MinConversion float64
	// Window is the time a sample spans. Default 1 hour.
	Window time.Duration
	// CoolDown is how long a paused prefix stays paused; at least Window, so a prefix
	// resumes with a fresh sample. Default 1 hour.
	CoolDown time.Duration
}

// DefaultCallingCodeLimits are the send budgets per country calling code of
// DefaultPumpingGuard: 5,000 codes an hour and 50,000 a day to one calling code.
func DefaultCallingCodeLimits() []ports.RateLimit {
	return []ports.RateLimit{{Max: 5000, Per: time.Hour}, {Max: 50000, Per: 24 * time.Hour}}
}

// DefaultPumpingGuard returns the pumping guard of DefaultConfig: the calling-code budgets
// of DefaultCallingCodeLimits, and a conversion watch over prefixes of 6 digits that pauses
// a prefix for an hour when fewer than 5 of a sample of 100 codes sent to it within an
// hour were verified.
func DefaultPumpingGuard() PumpingGuard {
	return PumpingGuard{
		CallingCodeLimits: DefaultCallingCodeLimits(),
		PrefixDigits:      6,
		MinSends:          100,
		MinConversion:     0.05,
		Window:            time.Hour,
		CoolDown:          time.Hour,
	}
}

// DefaultMaxSubjectsPerRecipient is Config.MaxSubjectsPerRecipient of DefaultConfig: room
// for a household sharing one phone, not for an attack aiming many accounts at it.
const DefaultMaxSubjectsPerRecipient = 10

// watching reports whether the conversion watch is on.
func (g PumpingGuard) watching() bool { return g.PrefixDigits > 0 }

// TestRecipient is a recipient in test mode: until Until, codes to Phone are Code, and no
// message is sent; afterwards it is an ordinary recipient again. The fixed code is stored
// only as a keyed hash, like any code, and never accepted for any other recipient.
type TestRecipient struct {
	// Phone is the recipient's number (ports.ParsePhone).
	Phone string
	// Code is the fixed code, MinDigits to MaxDigits digits.
	Code string
	// Until is when test mode ends for this recipient. Required.
	Until time.Time
}

// validateAbuse adds the problems of the abuse controls of c to bad.
func (c Config) validateAbuse(bad func(field, rule, desc string)) {
	for i, r := range c.Phones.AllowedRegions {
		if !ports.ValidRegion(r) {
			bad(fmt.Sprintf("Phones.AllowedRegions[%d]", i), "inclusion", "must be an ISO 3166-1 alpha-2 region code with a numbering plan, or 001, got "+strconv.Quote(r))
		}
	}
	for i, r := range c.Phones.BlockedRegions {
		switch {
		case !ports.ValidRegion(r):
			bad(fmt.Sprintf("Phones.BlockedRegions[%d]", i), "inclusion", "must be an ISO 3166-1 alpha-2 region code with a numbering plan, or 001, got "+strconv.Quote(r))
		case slices.Contains(c.Phones.AllowedRegions, r):
			bad(fmt.Sprintf("Phones.BlockedRegions[%d]", i), "exclusion", r+" is also allowed")
		}
	}
	for i, t := range c.Phones.RefusedTypes {
		if !slices.Contains(ports.PhoneTypes(), t) {
			bad(fmt.Sprintf("Phones.RefusedTypes[%d]", i), "inclusion", "unknown phone number type "+strconv.Quote(string(t)))
		}
	}
	g := c.Pumping
	for i, l := range g.CallingCodeLimits {
		if l.Max < 1 || l.Per <= 0 {
			bad(fmt.Sprintf("Pumping.CallingCodeLimits[%d]", i), "positive", "needs a positive Max and Per")
		}
	}
	switch {
	case g.PrefixDigits < 0 || g.PrefixDigits > 15:
		bad("Pumping.PrefixDigits", "range", "must be from 0 (off) to 15")
	case g.PrefixDigits > 0:
		if g.MinSends < 1 {
			bad("Pumping.MinSends", "positive", "must be at least 1")
		}
		if !(g.MinConversion >= 0 && g.MinConversion <= 1) {
			bad("Pumping.MinConversion", "range", "must be from 0 to 1")
		}
		if g.Window <= 0 {
			bad("Pumping.Window", "positive", "must be positive")
		}
		if g.CoolDown < g.Window {
			bad("Pumping.CoolDown", "range", "must be at least Window, so that a prefix resumes with a fresh sample")
		}
	}
	if l := c.RecipientFailureLimit; l != (ports.RateLimit{}) && (l.Max < 1 || l.Per <= 0) {
		bad("RecipientFailureLimit", "positive", "needs a positive Max and Per (or neither, to turn it off)")
	}
	if c.MaxSubjectsPerRecipient < 0 {
		bad("MaxSubjectsPerRecipient", "positive", "must not be negative (0 turns it off)")
	}
	seen := map[string]bool{}
	for i, tr := range c.TestRecipients {
		at := fmt.Sprintf("TestRecipients[%d]", i)
		p, err := ports.ParsePhone(tr.Phone)
		switch {
		case err != nil:
			bad(at+".Phone", "format", ports.PhoneFormatHint)
		case seen[p.E164]:
			bad(at+".Phone", "uniqueness", "another test recipient has this number")
		default:
			seen[p.E164] = true
		}
		if !validCode(tr.Code) {
			bad(at+".Code", "format", fmt.Sprintf("must be %d to %d digits", MinDigits, MaxDigits))
		}
		if tr.Until.IsZero() {
			bad(at+".Until", "required", "a test recipient needs the date its test mode ends")
		}
	}
}

// recipient is the recipient of a draw, as the abuse controls see it.
type recipient struct {
	// to is the recipient as messages and send limits use it: a phone number in E.164 form.
	to    string
	phone ports.Phone
	// isPhone is false for an e-mail address (or no recipient at all).
	isPhone bool
	// test is the fixed code of an active test recipient, "" otherwise.
	test string
	// tag is the recipient's tag (recipientKeys) when a control counts per recipient.
	tag string
	// sendKey is the limiter key of the recipient's send limits (recipientKeys), "" when
	// there is no recipient.
	sendKey string
}

// readRecipient parses the recipient of req at now and applies the rules that need no
// counting: a valid number, regions, types. Errors name "$.recipient".
func (s *Service) readRecipient(raw string, now time.Time) (recipient, error) {
	if raw == "" || strings.Contains(raw, "@") {
		r := recipient{to: raw}
		if raw != "" {
			r.sendKey, r.tag = s.recipientKeys(raw)
		}
		return r, nil
	}
	p, err := s.phones.parse(raw)
	if err != nil {
		return recipient{}, verifykit.RenameEntry(err, "$.phone_number", "$.recipient")
	}
	r := recipient{to: p.E164, phone: p, isPhone: true}
	r.sendKey, r.tag = s.recipientKeys(r.to)
	for _, tr := range s.tests {
		if tr.phone == p.E164 && now.Before(tr.until) {
			r.test = tr.code
			return r, nil // nothing is sent: the rules of what may be sent to do not apply
		}
	}
	rules := s.cfg.Phones
	if (len(rules.AllowedRegions) > 0 && !slices.Contains(rules.AllowedRegions, p.Region)) || slices.Contains(rules.BlockedRegions, p.Region) {
		return recipient{}, refusedRecipient("region", "codes are not sent to numbers of region "+p.Region)
	}
	if slices.Contains(rules.RefusedTypes, p.Type) {
		return recipient{}, refusedRecipient("phone_type", "codes are not sent to numbers of type "+string(p.Type))
	}
	return r, nil
}

func refusedRecipient(rule, desc string) error {
	return verifykit.Invalid("This recipient cannot receive verification codes.", verifykit.InvalidEntry{
		Entry: "$.recipient", EntryType: verifykit.EntryJSONProperty, Rule: rule, Description: desc,
	})
}

// testRecipient is a TestRecipient as the service keeps it.
type testRecipient struct {
	phone, code string
	until       time.Time
}

// Limiter keys of the abuse controls.
const (
	keyCallingCode = "pump:cc:"
	keyPumpSent    = "pump:sent:"
	keyPumpOK      = "pump:verified:"
	keyPumpPause   = "pump:pause:"
	// pumpingGuardName names the pumping guard in ports.EventAbusePaused.
	pumpingGuardName = "pumping_guard"
	keyRecipFail     = "otp:rfail:"
	keyRecipSubj     = "otp:rsubj:"
	keyRecipPair     = "otp:rpair:"
)

// reservation is one event recorded for a draw, given back when the draw is refused later
// or its code is never stored.
type reservation struct {
	key string
	at  time.Time
}

// abuseDraw is what the counting abuse controls decided for one draw.
type abuseDraw struct {
	tag      string // recipient tag for the code ID, "" when nothing is counted at verify
	prefix   string // sampled prefix, "" when the code is not sampled
	reserved []reservation
}

// recipientKeys returns the send-limit key of a recipient, and its tag when a control
// counts per recipient ("" otherwise), both from one keyed hash of it: the tag, in hex, is
// its first 12 bytes (limiter keys use it in place of the recipient, and a code's ID
// carries it), the send-limit key the next 16. The hash uses the first secret: rotating it
// starts every limit afresh.
func (s *Service) recipientKeys(to string) (sendKey, tag string) {
	st := s.hashers[0].compute([]string{"otp:recipient", to})
	var buf [len(sendKeyPrefix) + 2*16 + 2*12]byte
	b := append(buf[:0], sendKeyPrefix...)
	b = hex.AppendEncode(b, st.out[12:28])
	b = hex.AppendEncode(b, st.out[:12])
	s.hashers[0].pool.Put(st)
	keys, n := string(b), len(sendKeyPrefix)+2*16
	if s.cfg.MaxSubjectsPerRecipient == 0 && s.cfg.RecipientFailureLimit.Max == 0 {
		return keys[:n], ""
	}
	return keys[:n], keys[n:]
}

// recipientBudgetUsedUp is the answer when the failure budget of a recipient is used up.
func recipientBudgetUsedUp(wait time.Duration) error {
	return rateLimited("Too many wrong codes were entered for this recipient", wait, ErrTooManyFailures)
}

// rateLimited is a KindRateLimited error: what happened, then when to try again (wait, in
// whole seconds rounded up, and RetryAfter), with cause for errors.Is (or nil).
func rateLimited(what string, wait time.Duration, cause error) error {
	return &verifykit.Error{
		Kind:       verifykit.KindRateLimited,
		Message:    what + "; try again in " + roundUp(wait) + ".",
		RetryAfter: wait,
		Err:        cause,
	}
}

// recipientFailKey is the limiter key of the failure budget of the recipient of the code
// id, or "" when the budget is off or the code names no recipient.
func (s *Service) recipientFailKey(id string) string {
	if s.cfg.RecipientFailureLimit.Max == 0 {
		return ""
	}
	tag, _ := idTags(id)
	if tag == "" {
		return ""
	}
	return keyRecipFail + tag
}

// giveBackBudget gives back the failure b reserved, if any.
func (s *Service) giveBackBudget(ctx context.Context, b budgetDecision, now time.Time) {
	if b.held != "" {
		s.undo(ctx, []reservation{{b.held, now}})
	}
}

// errDecideBudget ends, writing nothing, an Update whose attempt is on a code whose
// recipient's failure budget was not decided yet (see attemptStored).
var errDecideBudget = errors.New("otp: the recipient's failure budget is decided first")

// errCodeKeptChanging answers an attempt whose code was replaced, by codes to other
// recipients, every time its recipient's budget had been decided.
var errCodeKeptChanging = errors.New("otp: the code kept changing")

// maxBudgetPasses bounds the Updates of one attempt on codes that keep changing.
const maxBudgetPasses = 4

// budgetDecision is what an attempt decided of the failure budgets of recipients, by
// limiter key: held, a failure reserved for a wrong guess (Allow, given back unless the
// stored attempt counted it); seen, a budget found not used up (Peek) for an attempt that
// counts no failure.
type budgetDecision struct{ held, seen string }

// covers reports whether b decided the budget key for an attempt that counted a failure or
// not: "" (no budget) needs nothing, a counted failure needs its reservation, any other
// attempt a budget found not used up (or a reservation).
func (b budgetDecision) covers(key string, counted bool) bool {
	return key == "" || key == b.held || (!counted && key == b.seen)
}

// decideBudget decides the budget key at now for an attempt that counts a failure
// (reserving it, in place of any reservation held before) or not (a Peek), recording it in
// b; a used-up budget answers recipientBudgetUsedUp.
func (s *Service) decideBudget(ctx context.Context, b *budgetDecision, key string, counted bool, now time.Time) error {
	decide, into := s.limiter.Peek, &b.seen
	if counted {
		if b.held != "" {
			s.undo(ctx, []reservation{{b.held, now}})
			b.held = ""
		}
		decide, into = s.limiter.Allow, &b.held
	}
	d, err := decide(ctx, key, now, s.cfg.RecipientFailureLimit)
	switch {
	case err != nil:
		return unavailable("recipient failure budget", err)
	case !d.Allowed:
		return recipientBudgetUsedUp(d.RetryAfter)
	}
	*into = key
	return nil
}

func pumpingPaused(wait time.Duration) error {
	return rateLimited("Verification codes to numbers like this one are paused", wait, nil)
}

// tooManySubjects is the answer when too many subjects have a code to one recipient.
func tooManySubjects(wait time.Duration) error {
	return rateLimited("Verification codes to this recipient were asked for too many accounts", wait, nil)
}

// prefix is the conversion-watch prefix of a phone recipient.
func (s *Service) prefix(r recipient) string {
	digits := r.to[1:]
	return digits[:min(len(digits), s.cfg.Pumping.PrefixDigits)]
}

// reserve applies the send limits (on sendKey) and the counting abuse controls to a draw of
// purpose and subject to r at now with a code of lifetime ttl, and records what they count,
// in one batch of the limiter whatever is on (ports.DecideRates), all or nothing: it looks
// at the pumping guard's pause of the prefix and the recipient's failure budget, and
// records the send, the calling code's budget, the subject (with the pair of subject and
// recipient that tells a new subject from one that has its code) and the prefix's sample.
// When a control refuses, nothing stays recorded and reserve answers the refusal. In
// order: a paused prefix, a used-up recipient budget, the send limits, the calling code's
// budget, too many subjects, and a prefix the conversion watch pauses now.
func (s *Service) reserve(ctx context.Context, r recipient, sendKey, purpose, subject string, ttl time.Duration, now time.Time) (abuseDraw, error) {
	var a abuseDraw
	counting := r.test == "" && r.to != ""
	g, lim := s.cfg.Pumping, &s.limits
	watch := counting && r.isPhone && g.watching()
	subjects := counting && s.cfg.MaxSubjectsPerRecipient > 0
	var (
		prefix string
		keys   drawKeys
	)
	if watch || (counting && (r.tag != "" || (r.isPhone && len(g.CallingCodeLimits) > 0))) {
		if watch {
			prefix = s.prefix(r)
		}
		keys = newDrawKeys(r, prefix)
	}
	pairLim, subjLim := lim.pair, lim.subjects
	if per := min(ttl, ports.DefaultRateRetention); subjects && per != lim.subjectsPer { // how long a subject counts
		pairLim = []ports.RateLimit{{Max: 1, Per: per}}
		subjLim = []ports.RateLimit{{Max: s.cfg.MaxSubjectsPerRecipient, Per: per}}
	}
	sc := scratchPool.Get().(*reserveScratch)
	defer sc.release()
	// i* note where each request is in the batch, -1 when it is not.
	rec := sc.reqs[:0]
	add := func(req ports.RateRequest) int {
		rec = append(rec, req)
		return len(rec) - 1
	}
	iPause, iBudget, iSend, iCode, iPair, iSubj, iSent, iOK := -1, -1, -1, -1, -1, -1, -1, -1
	if watch {
		iPause = add(ports.RateRequest{Key: keys.pause, Limits: lim.pause})
	}
	if counting && s.cfg.RecipientFailureLimit.Max > 0 {
		iBudget = add(ports.RateRequest{Key: keys.rfail, Limits: lim.rfail})
	}
	if len(s.cfg.SendLimits) > 0 {
		iSend = add(ports.RateRequest{Key: sendKey, Limits: s.cfg.SendLimits, Record: true})
	}
	if counting && r.isPhone && len(g.CallingCodeLimits) > 0 {
		iCode = add(ports.RateRequest{Key: keys.code, Limits: g.CallingCodeLimits, Record: true})
	}
	if subjects {
		// The pair records that the subject has a code to r: of draws for one subject
		// within the subject's time, concurrent or not, one records it and counts the
		// subject; the others find that the subject has its code, and give back the
		// subject they counted.
		iPair = add(ports.RateRequest{Key: s.limitKey(keyRecipPair, r.to, purpose, subject), Limits: pairLim, Record: true, Optional: true})
		iSubj = add(ports.RateRequest{Key: keys.subj, Limits: subjLim, Record: true, Optional: true})
	}
	if watch {
		iSent = add(ports.RateRequest{Key: keys.sent, Limits: lim.sample, Record: true, Optional: true})
		if lim.need > 0 {
			iOK = add(ports.RateRequest{Key: keys.ok, Limits: lim.verified, Optional: true})
		}
	}
	if len(rec) == 0 {
		return a, nil
	}
	ds, err := s.decideRates(ctx, now, rec, sc.one[:])
	if err != nil {
		return a, unavailable("send limits", err)
	}
	switch {
	case iPause >= 0 && !ds[iPause].Allowed:
		return a, pumpingPaused(ds[iPause].RetryAfter)
	case iBudget >= 0 && !ds[iBudget].Allowed:
		return a, recipientBudgetUsedUp(ds[iBudget].RetryAfter)
	}
	switch {
	case iSend >= 0 && !ds[iSend].Allowed:
		return a, tooManySends(ds[iSend].RetryAfter)
	case iCode >= 0 && !ds[iCode].Allowed:
		return a, rateLimited("Too many verification codes were sent to this country", ds[iCode].RetryAfter, nil)
	}
	n := 0
	for i, req := range rec {
		if req.Record && ds[i].Allowed && i != iSend {
			n++
		}
	}
	a.reserved = make([]reservation, 0, n)
	for i, req := range rec {
		if req.Record && ds[i].Allowed && i != iSend {
			a.reserved = append(a.reserved, reservation{req.Key, now})
		}
	}
	fail := func(err error) (abuseDraw, error) {
		s.undo(ctx, a.reserved)
		if iSend >= 0 {
			s.undo(ctx, []reservation{{sendKey, now}})
		}
		return abuseDraw{}, err
	}
	if subjects {
		switch pairOK, subjOK := ds[iPair].Allowed, ds[iSubj].Allowed; {
		case pairOK && !subjOK: // a new subject, and too many have a code to r
			return fail(tooManySubjects(ds[iSubj].RetryAfter))
		case !pairOK && subjOK: // the subject has its code to r: it was counted then
			s.undo(ctx, []reservation{{keys.subj, now}})
			a.reserved = slices.DeleteFunc(a.reserved, func(r reservation) bool { return r.key == keys.subj })
		}
	}
	if watch {
		if ds[iSent].Allowed {
			a.prefix = prefix
		} else if iOK >= 0 && ds[iOK].Allowed { // a full sample with fewer than need verified
			if _, err := s.limiter.Allow(ctx, keys.pause, now, lim.pause...); err != nil {
				return fail(unavailable("pumping guard", err))
			}
			s.log.LogAttrs(ctx, slog.LevelWarn, "otp sends to a prefix paused: too few codes verified",
				slog.String("prefix", "+"+prefix), slog.Int("sample", g.MinSends), slog.Float64("min_conversion", g.MinConversion),
				slog.Duration("cool_down", g.CoolDown))
			s.obs.Event(ctx, ports.Event{Kind: ports.EventAbusePaused, Limit: pumpingGuardName})
			return fail(pumpingPaused(g.CoolDown))
		}
	}
	if counting {
		a.tag = r.tag
	}
	return a, nil
}

// abuseLimits are the limits of the abuse controls, made once from the Config.
type abuseLimits struct {
	pause, rfail, sample, verified []ports.RateLimit
	// need is how many verified codes a full sample of a prefix needs.
	need int
	// pair and subjects are the limits of the subjects cap for codes of the configured
	// TTL, which counts a subject for subjectsPer.
	pair, subjects []ports.RateLimit
	subjectsPer    time.Duration
}

// newAbuseLimits makes the abuseLimits of c.
func newAbuseLimits(c Config) abuseLimits {
	g := c.Pumping
	need := int(math.Ceil(g.MinConversion * float64(g.MinSends)))
	per := min(c.TTL, ports.DefaultRateRetention)
	return abuseLimits{
		pause:       []ports.RateLimit{{Max: 1, Per: g.CoolDown}},
		rfail:       []ports.RateLimit{c.RecipientFailureLimit},
		sample:      []ports.RateLimit{{Max: g.MinSends, Per: g.Window}},
		verified:    []ports.RateLimit{{Max: need, Per: g.Window}},
		need:        need,
		pair:        []ports.RateLimit{{Max: 1, Per: per}},
		subjects:    []ports.RateLimit{{Max: c.MaxSubjectsPerRecipient, Per: per}},
		subjectsPer: per,
	}
}

// drawKeys are the limiter keys of the abuse controls of one draw, cut from one string.
type drawKeys struct {
	pause, sent, ok string // of the prefix, when the conversion watch samples it
	rfail, subj     string // of the recipient's tag
	code            string // of the calling code, for a phone
}

// newDrawKeys makes the drawKeys of a draw to r whose phone's watched prefix is prefix
// ("" when none).
func newDrawKeys(r recipient, prefix string) drawKeys {
	var buf [192]byte
	b, ends := buf[:0], [6]int{}
	for i, part := range [...][2]string{
		{keyPumpPause, prefix}, {keyPumpSent, prefix}, {keyPumpOK, prefix},
		{keyRecipFail, r.tag}, {keyRecipSubj, r.tag}, {keyCallingCode, ""},
	} {
		b = append(append(b, part[0]...), part[1]...)
		if i == 5 {
			b = strconv.AppendInt(b, int64(r.phone.CallingCode), 10)
		}
		ends[i] = len(b)
	}
	all := string(b)
	return drawKeys{
		pause: all[:ends[0]], sent: all[ends[0]:ends[1]], ok: all[ends[1]:ends[2]],
		rfail: all[ends[2]:ends[3]], subj: all[ends[3]:ends[4]], code: all[ends[4]:ends[5]],
	}
}

// reserveScratch holds the requests of one reserve, reused through scratchPool.
type reserveScratch struct {
	reqs [8]ports.RateRequest
	one  [1]ports.RateDecision
}

var scratchPool = sync.Pool{New: func() any { return new(reserveScratch) }}

// release clears sc (it holds no keys of a finished draw) and gives it back to the pool.
func (sc *reserveScratch) release() {
	*sc = reserveScratch{}
	scratchPool.Put(sc)
}

// decideRates decides reqs at now with the limiter: one request with the port's own call,
// answered in one (which has room for one decision), more in one batch
// (ports.DecideRates).
func (s *Service) decideRates(ctx context.Context, now time.Time, reqs []ports.RateRequest, one []ports.RateDecision) ([]ports.RateDecision, error) {
	if len(reqs) == 1 {
		r := reqs[0]
		decide := s.limiter.Peek
		if r.Record {
			decide = s.limiter.Allow
		}
		d, err := decide(ctx, r.Key, now, r.Limits...)
		one[0] = d
		return one[:1], err
	}
	return ports.DecideRates(ctx, s.limiter, now, reqs)
}

// undo gives back reserved events; a failure is logged (the limits then err on the safe
// side until the events leave their windows).
func (s *Service) undo(ctx context.Context, reserved []reservation) {
	for _, r := range reserved {
		if err := s.limiter.Undo(context.WithoutCancel(ctx), r.key, r.at); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "otp reservation not given back", slog.String("error", err.Error()))
		}
	}
}

// codeID is the ID of a code: a UUID, then the recipient tag and the sampled prefix when
// the abuse controls count something at verify.
func codeID(id string, a abuseDraw) string {
	switch {
	case a.prefix != "":
		return id + "." + a.tag + "." + a.prefix
	case a.tag != "":
		return id + "." + a.tag
	}
	return id
}

// idTags returns the recipient tag and sampled prefix a code ID carries.
func idTags(id string) (tag, prefix string) {
	const uuidLen = 36
	if len(id) <= uuidLen+1 || id[uuidLen] != '.' {
		return "", ""
	}
	tag, prefix, _ = strings.Cut(id[uuidLen+1:], ".")
	return tag, prefix
}

// Settle counts, after the write that stored it committed, what one attempt on v (Check or
// CountFailure inside a flow's Update, answering res and err) means for the abuse controls: a
// counted wrong guess goes against the failure budget of the code's recipient
// (RecipientFailureLimit), and a verified code sampled by the pumping guard counts as a
// conversion of its prefix; the attempt is reported to the Observer. Verify and
// RecordFailure settle on their own (and decide the recipient's budget before the
// attempt). A limiter failure is logged, not answered: the attempt itself has happened.
//
// Settle counts the failure only after the write, and refuses nothing: checks on codes
// already open for a recipient whose budget is spent still run, and concurrent ones can
// pass the budget. Guard the check with a CheckGuard instead (GuardCheck), which decides the
// budget before the write, and settles in Done.
func (s *Service) Settle(ctx context.Context, v ports.Verification, res VerifyResult, err error) {
	s.checkedPurpose(v.Code.Purpose, err)
	s.settle(ctx, v, res, err, true)
}

// settle is Settle; countFailure is false when the failure was reserved before the attempt.
func (s *Service) settle(ctx context.Context, v ports.Verification, res VerifyResult, err error, countFailure bool) {
	tag, prefix := idTags(v.Code.ID)
	if v.Code.ID != res.CodeID || (tag == "" && prefix == "") {
		return
	}
	now := s.clock.Now()
	verified := err == nil && res.State == ports.CodeVerified
	var lerr error
	switch {
	case res.Counted && tag != "" && s.cfg.RecipientFailureLimit.Max > 0:
		if !countFailure {
			return
		}
		_, lerr = s.limiter.Allow(ctx, keyRecipFail+tag, now, s.cfg.RecipientFailureLimit)
	case verified && prefix != "" && s.cfg.Pumping.watching():
		_, lerr = s.limiter.Allow(ctx, keyPumpOK+prefix, now, ports.RateLimit{Max: s.cfg.Pumping.MinSends, Per: s.cfg.Pumping.Window})
	}
	if lerr != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "otp abuse counter not recorded", slog.String("error", lerr.Error()))
	}
}

// warnTestMode logs, at construction, the test recipients still in test mode at now.
func (s *Service) warnTestMode(now time.Time) {
	for _, tr := range s.tests {
		if now.Before(tr.until) {
			s.log.LogAttrs(context.Background(), slog.LevelWarn, "otp test mode: codes to this recipient are fixed and not sent",
				slog.String("recipient", ports.MaskPhone(tr.phone)), slog.Time("until", tr.until))
		}
	}
}

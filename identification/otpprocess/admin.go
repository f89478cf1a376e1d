package otpprocess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// maxTextLen bounds every free-text field of a request, in characters.
const maxTextLen = 200

// MinExpiresIn is the shortest lifetime of a process (RULES.md §F): a shorter expires_in is
// invalid input naming $.expires_in.
const MinExpiresIn = time.Minute

// CreateRequest opens an OTP identification process.
type CreateRequest struct {
	// Token is the organisation's access token; OrgID the organisation (the path's org_id).
	Token string
	OrgID string
	// Actor is who must prove their identity. Name is required; the channel and the second
	// factor need more (see Create).
	Actor Actor
	// ExpiresIn is how long the process stays open, as an ISO-8601 duration (see
	// ParseISODuration). Empty: Config.DefaultExpiresIn (30 days); at least
	// MinExpiresIn (one minute: "PT0.5S" and "P0D" are refused) and at most
	// Config.MaxExpiresIn (30 days).
	ExpiresIn string
	// TwoFactorType is the second factor the actor must give; empty for none.
	TwoFactorType TwoFactorType
	// Channel is how the code reaches the actor.
	Channel Channel
}

// CreateResult is the process created.
type CreateResult struct {
	Process Process
	// Code is the one-time code when the channel is external, for the organisation to
	// deliver; it is returned this once and never stored in clear. Empty otherwise.
	Code string
	// DeliveredBy is the channel that delivered the code: the process's own, or one of
	// Config.Fallback when it could not be delivered there. Empty when external.
	DeliveredBy ChannelType
}

// Create opens a process in state CREATED, expiring ExpiresIn from now, and issues its
// first code: sent through the channel's sender (SMS, e-mail, WhatsApp), or returned in
// the result when the channel is external.
//
// The input must be complete (KindInvalidInput listing every problem): expires_in from
// MinExpiresIn to Config.MaxExpiresIn; actor.msisdn, when given, a number possible in
// E.164 form (ports.ParsePhone: valid in its country's numbering plan, stored in E.164
// form); the channel type and, when set, the second factor type must be known; SMS and
// WHATSAPP need actor.msisdn, EMAIL needs actor.email; DOCUMENT_NUMBER and
// PERSONAL_DOCUMENT_IMAGE need actor.identity_document.document_number, the EMAIL second
// factor needs actor.email; a non-external channel needs its sender (Deps). If the code
// cannot be issued (too many codes to the recipient: KindRateLimited; delivery failed:
// KindUnavailable) nothing is stored and the error is returned.
//
// The process and its first code are stored in one write. Create is the one use case that
// delivers before it writes: nothing of the process exists yet, so no older code must die
// first, and a failed delivery leaves nothing behind. Should the write fail after the
// message went out, that code belongs to no process, and nothing can use it.
func (s *Service) Create(ctx context.Context, req CreateRequest) (_ CreateResult, err error) {
	ctx, end := s.startOrg(ctx, "Create", req.OrgID)
	defer func() { end(err) }()
	claims, err := s.authorize(ctx, req.Token, req.OrgID, MsgOrgNotFound, s.cfg.AdminScopes)
	if err != nil {
		return CreateResult{}, err
	}
	actor := s.normalizeActor(req.Actor)
	expiresIn, err := s.checkCreate(actor, req)
	if err != nil {
		return CreateResult{}, err
	}
	now := s.clock.Now()
	rec := ports.ProcessRecord{Process: Process{
		ID:            uuid.NewString(),
		OrgID:         req.OrgID,
		State:         StateCreated,
		Actor:         actor,
		TwoFactorType: req.TwoFactorType,
		Channel:       req.Channel,
		CreatedAt:     now,
		UpdatedAt:     now,
		ExpiresAt:     now.Add(expiresIn),
		CodeSentAt:    now,
		CodesSent:     1,
	}}
	d, err := s.draw(ctx, rec, now)
	if err != nil {
		return CreateResult{}, err
	}
	s.otp.Put(&rec.Verification, d)
	s.emitIssued(&rec, d, EventCreated, claims.Subject, now)
	if err := s.otp.Send(ctx, d); err != nil {
		return CreateResult{}, err
	}
	if err := s.store.Create(ctx, rec); err != nil {
		return CreateResult{}, storeErr(err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "otp identification created", slog.String("org_id", rec.OrgID), slog.String("process_id", rec.ID),
		slog.String("channel", string(rec.Channel.Type)), slog.Bool("external", rec.Channel.External), slog.String("two_factor_type", string(rec.TwoFactorType)))
	return CreateResult{Process: view(rec, now), Code: d.Code(), DeliveredBy: deliveredBy(d)}, nil
}

// normalizeActor trims the actor's fields and writes the phone number in digits only.
func (s *Service) normalizeActor(a Actor) Actor {
	trim := strings.TrimSpace
	a.Name, a.LastName, a.Email, a.Language = trim(a.Name), trim(a.LastName), trim(a.Email), trim(a.Language)
	a.MSISDN.CountryCode = strings.TrimPrefix(trim(a.MSISDN.CountryCode), "+")
	if strings.ContainsFunc(a.MSISDN.PhoneNumber, unicode.IsSpace) {
		a.MSISDN.PhoneNumber = strings.Join(strings.Fields(a.MSISDN.PhoneNumber), "")
	}
	if p, err := s.otp.ParsePhone("+" + a.MSISDN.CountryCode + a.MSISDN.PhoneNumber); err == nil && a.MSISDN.CountryCode != "" {
		// "+380", "(93) 123-45-85" and "+380", "093 123 45 85" are stored as "380", "931234585".
		a.MSISDN.CountryCode, a.MSISDN.PhoneNumber = strconv.Itoa(p.CallingCode), p.National
	}
	d := &a.IdentityDocument
	d.DocumentType, d.DocumentNumber, d.Country = trim(d.DocumentType), trim(d.DocumentNumber), trim(d.Country)
	return a
}

// checkCreate checks the create input, with actor normalized, and returns the lifetime.
func (s *Service) checkCreate(actor Actor, req CreateRequest) (time.Duration, error) {
	var v verifykit.Validation
	v.Required("$.actor.name", actor.Name)
	doc := actor.IdentityDocument
	for _, f := range [...]struct{ entry, value string }{
		{"$.actor.name", actor.Name}, {"$.actor.last_name", actor.LastName}, {"$.actor.language", actor.Language},
		{"$.actor.identity_document.document_type", doc.DocumentType},
		{"$.actor.identity_document.document_number", doc.DocumentNumber},
		{"$.actor.identity_document.country", doc.Country},
	} {
		if utf8.RuneCountInString(f.value) > maxTextLen {
			v.Add(f.entry, "length", fmt.Sprintf("must be at most %d characters", maxTextLen))
		}
	}
	if actor.Email != "" && !validEmail(actor.Email) {
		v.Add("$.actor.email", "format", "must be an e-mail address")
	}
	s.checkMSISDN(&v, actor.MSISDN)

	expiresIn := s.cfg.DefaultExpiresIn
	if strings.TrimSpace(req.ExpiresIn) != "" {
		d, reason := parseISODuration(strings.TrimSpace(req.ExpiresIn))
		switch {
		case reason != "":
			v.Add("$.expires_in", "format", "must be an ISO-8601 duration: "+reason)
		case d < MinExpiresIn:
			v.Add("$.expires_in", "range", "must be at least "+FormatISODuration(MinExpiresIn))
		case d > s.cfg.MaxExpiresIn:
			v.Add("$.expires_in", "range", "must be at most "+FormatISODuration(s.cfg.MaxExpiresIn))
		}
		expiresIn = d
	}

	need := func(entry, value, by string) {
		if value == "" {
			v.Add(entry, "required", "is required by "+by)
		}
	}
	phone := actor.MSISDN.E164()
	switch ch := req.Channel.Type; ch {
	case ChannelSMS:
		need("$.actor.msisdn", phone, "channel SMS")
		if !req.Channel.External && s.sms == nil && !s.otp.SendsSMS() {
			v.Add("$.channel.type", "availability", "channel SMS is only available with external=true")
		}
	case ChannelWhatsApp:
		need("$.actor.msisdn", phone, "channel WHATSAPP")
		if !req.Channel.External && s.whatsapp == nil {
			v.Add("$.channel.type", "availability", "channel WHATSAPP is only available with external=true")
		}
	case ChannelEmail:
		need("$.actor.email", actor.Email, "channel EMAIL")
		if !req.Channel.External && s.email == nil {
			v.Add("$.channel.type", "availability", "channel EMAIL is only available with external=true")
		}
	case "":
		v.Add("$.channel.type", "required", "is required")
	default:
		v.Add("$.channel.type", "inclusion", "must be one of SMS, EMAIL, WHATSAPP")
	}
	switch tf := req.TwoFactorType; tf {
	case "":
	case TwoFactorDocumentNumber, TwoFactorDocumentImage:
		need("$.actor.identity_document.document_number", actor.IdentityDocument.DocumentNumber, "two_factor_type "+string(tf))
	case TwoFactorEmail:
		need("$.actor.email", actor.Email, "two_factor_type EMAIL")
	default:
		v.Add("$.two_factor_type", "inclusion", "must be one of DOCUMENT_NUMBER, EMAIL, PERSONAL_DOCUMENT_IMAGE")
	}
	return expiresIn, v.Err()
}

// checkMSISDN checks a phone number, when either of its parts is given: a country calling
// code of 1 to 3 digits, and a national number that makes with it 8 to 15 digits, so "+1"
// and "2345" is refused, and a valid number of that country's numbering plan
// (ports.ParsePhone, the check person requests use too), so "+1" and "2345678" is too.
func (s *Service) checkMSISDN(v *verifykit.Validation, m ports.ProcessPhone) {
	if m.CountryCode == "" && m.PhoneNumber == "" {
		return
	}
	ccOK := true
	if n := len(m.CountryCode); n < 1 || n > 3 || digits(m.CountryCode) != n || m.CountryCode[0] == '0' {
		v.Add("$.actor.msisdn.country_code", "format", "must be a country calling code of 1 to 3 digits")
		ccOK = false
	}
	// With a country code that is no country code, the number is judged on its digits alone.
	if n := len(m.PhoneNumber); n == 0 || digits(m.PhoneNumber) != n || ccOK && !ports.ValidE164(m.E164()) {
		v.Add("$.actor.msisdn.phone_number", "format", "must be digits, 8 to 15 with the country code")
	} else if _, err := s.otp.ParsePhone(m.E164()); ccOK && err != nil {
		v.Add("$.actor.msisdn.phone_number", "format", "must be a valid phone number of country code +"+m.CountryCode)
	}
}

// validEmail reports whether s looks like an e-mail address: one "@", a local part of at
// most 64 characters, a domain with a dot inside, no spaces or control characters.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || len(s) > 254 || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	if dot := strings.LastIndexByte(domain, '.'); dot <= 0 || dot == len(domain)-1 || strings.HasPrefix(domain, ".") {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// draw reserves a send and draws a code for the process rec at now, to be sent through its
// channel after it is stored, or returned for an external channel (Draft.Code). The code
// lives until the process expires, or CodeTTL if that is shorter.
func (s *Service) draw(ctx context.Context, rec ports.ProcessRecord, now time.Time) (*otp.Draft, error) {
	ttl := rec.ExpiresAt.Sub(now)
	if ttl <= 0 {
		return nil, notCreated("resent", StateExpired)
	}
	if s.cfg.CodeTTL > 0 {
		ttl = min(ttl, s.cfg.CodeTTL)
	}
	req := otp.IssueRequest{
		Purpose: s.cfg.CodePurpose, Subject: rec.ID, TTL: ttl,
		MaxAttempts: s.cfg.MaxAttempts, Digits: s.cfg.Digits, Message: s.cfg.Message, Locale: rec.Actor.Language,
	}
	switch rec.Channel.Type {
	case ChannelSMS:
		req.Recipient = rec.Actor.MSISDN.E164()
		if s.sms != nil {
			req.Send = s.sms.Send
		}
	case ChannelWhatsApp:
		req.Recipient = rec.Actor.MSISDN.E164()
		if s.whatsapp != nil {
			req.Send = s.whatsapp.Send
		}
	case ChannelEmail:
		req.Recipient = rec.Actor.Email
		if s.email != nil {
			req.Send = s.email.Send
		}
	}
	if rec.Channel.External {
		d, err := s.otp.DrawExternal(ctx, req)
		return d, recipientEntry(err, rec.Channel.Type)
	}
	if req.Send == nil && rec.Channel.Type != ChannelSMS {
		return nil, verifykit.New(verifykit.KindUnavailable, "No sender is configured for channel "+string(rec.Channel.Type))
	}
	req.Channel, req.Fallback = strings.ToLower(string(rec.Channel.Type)), s.fallback(rec)
	d, err := s.otp.Draw(ctx, req)
	if err != nil {
		return nil, recipientEntry(err, rec.Channel.Type)
	}
	// A delivery receipt finds the process by organisation and id (MarkUndeliverable).
	d.SetReceiptScope(rec.OrgID)
	return d, nil
}

// deliveredBy is the channel type that delivered d's code, empty for an external one.
func deliveredBy(d *otp.Draft) ChannelType { return ChannelType(strings.ToUpper(d.Channel())) }

// fallback returns the channels of Config.Fallback a code of rec can go out on next:
// not rec's own, with the actor's contact for it and a sender.
func (s *Service) fallback(rec ports.ProcessRecord) []otp.Channel {
	var out []otp.Channel
	phone := rec.Actor.MSISDN.E164()
	for _, ch := range s.cfg.Fallback {
		c := otp.Channel{Name: strings.ToLower(string(ch))}
		switch {
		case ch == rec.Channel.Type:
			continue
		case ch == ChannelSMS && phone != "" && s.sms != nil:
			c.Recipient, c.Send = phone, s.sms.Send
		case ch == ChannelWhatsApp && phone != "" && s.whatsapp != nil:
			c.Recipient, c.Send = phone, s.whatsapp.Send
		case ch == ChannelEmail && rec.Actor.Email != "" && s.email != nil:
			c.Recipient, c.Send = rec.Actor.Email, s.email.Send
		default:
			continue
		}
		out = append(out, c)
	}
	return out
}

// recipientEntry names the actor's contact of channel ch in the invalid entries of an
// engine's refusal of the recipient (a region or number type not allowed).
func recipientEntry(err error, ch ChannelType) error {
	if ch == ChannelEmail {
		return verifykit.RenameEntry(err, "$.recipient", "$.actor.email")
	}
	return verifykit.RenameEntry(err, "$.recipient", "$.actor.msisdn.phone_number")
}

// Request names one process of an organisation.
type Request struct {
	// Token is the caller's access token.
	Token string
	// OrgID is the organisation (the path's org_id); ID is the process (the path's id).
	OrgID string
	ID    string
}

// ResendResult is the process after a resend.
type ResendResult struct {
	Process Process
	// Code is the new code when the channel is external, returned this once. Empty
	// otherwise.
	Code string
	// DeliveredBy is the channel that delivered the new code (see CreateResult).
	DeliveredBy ChannelType
}

// Resend issues a new code for a CREATED process, through its channel (or returned, when
// external); every older code stops being valid at once, even if the new one cannot be
// delivered. Any other state is a conflict (KindConflict). Sends to one recipient are
// limited (KindRateLimited; nothing changes).
//
// The new code replaces the old one in one atomic Update of the process (with CodeSentAt
// and CodesSent); the message goes out after that commit, and a failed delivery marks the
// new code undeliverable (KindUnavailable), never bringing the old one back.
func (s *Service) Resend(ctx context.Context, req Request) (_ ResendResult, err error) {
	ctx, end := s.startOrg(ctx, "Resend", req.OrgID)
	defer func() { end(err) }()
	claims, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.AdminScopes)
	if err != nil {
		return ResendResult{}, err
	}
	rec, err := s.get(ctx, req.OrgID, req.ID)
	if err != nil {
		return ResendResult{}, err
	}
	now := s.clock.Now()
	if err := s.requireCreated(ctx, rec, "resent"); err != nil {
		return ResendResult{}, err
	}
	d, err := s.draw(ctx, rec, now)
	if err != nil {
		return ResendResult{}, err
	}
	rec, err = s.transition(ctx, req.OrgID, req.ID, "resent", func(r *ports.ProcessRecord) {
		s.otp.Put(&r.Verification, d)
		r.CodeSentAt = now
		r.CodesSent++
		s.emitIssued(r, d, EventCodeResent, claims.Subject, now)
	})
	if err != nil {
		s.otp.Release(ctx, d)
		return ResendResult{}, err
	}
	if err := s.otp.Send(ctx, d); err != nil {
		s.markUndeliverable(ctx, rec, d)
		return ResendResult{}, err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "otp identification code resent", slog.String("org_id", req.OrgID), slog.String("process_id", req.ID), slog.Int("codes_sent", rec.CodesSent))
	return ResendResult{Process: view(rec, now), Code: d.Code(), DeliveredBy: deliveredBy(d)}, nil
}

// markUndeliverable marks the code d of the process rec undeliverable after its delivery
// failed, unless a newer code replaced it meanwhile. Should that fail, the code stays
// active though nobody got it, and it is logged.
func (s *Service) markUndeliverable(ctx context.Context, rec ports.ProcessRecord, d *otp.Draft) {
	_, err := s.store.Update(context.WithoutCancel(ctx), rec.OrgID, rec.ID, func(r *ports.ProcessRecord) error {
		if !otp.MarkUndeliverable(&r.Verification, d.ID()) {
			return errUnchanged
		}
		s.emitUndeliverable(r, d.ID(), s.clock.Now())
		return nil
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		s.log.WarnContext(ctx, "otp identification undeliverable code not marked", slog.String("process_id", rec.ID), slog.String("error", err.Error()))
	}
}

// errUnchanged makes a store Update write nothing: the step had nothing to change.
var errUnchanged = errors.New("otp identification unchanged")

// CancelRequest cancels a process.
type CancelRequest struct {
	Token string
	OrgID string
	ID    string
	// Reason says why; required, at most 1000 characters.
	Reason string
}

// maxReasonLen bounds a cancel reason, in characters.
const maxReasonLen = 1000

// Cancel moves a CREATED process to CANCELLED with the reason, and kills its code, in one
// atomic write. Any other state is a conflict (KindConflict); a missing reason is invalid
// input (KindInvalidInput naming "$.reason").
func (s *Service) Cancel(ctx context.Context, req CancelRequest) (_ Process, err error) {
	ctx, end := s.startOrg(ctx, "Cancel", req.OrgID)
	defer func() { end(err) }()
	claims, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.AdminScopes)
	if err != nil {
		return Process{}, err
	}
	reason := strings.TrimSpace(req.Reason)
	var v verifykit.Validation
	v.Required("$.reason", reason)
	if utf8.RuneCountInString(reason) > maxReasonLen {
		v.Add("$.reason", "length", fmt.Sprintf("must be at most %d characters", maxReasonLen))
	}
	if err := v.Err(); err != nil {
		return Process{}, err
	}
	rec, err := s.transition(ctx, req.OrgID, req.ID, "cancelled", func(r *ports.ProcessRecord) {
		r.State = StateCancelled
		r.CancelReason = reason
		r.CancelledAt = s.clock.Now()
		otp.Invalidate(&r.Verification)
		s.emitProcess(r, EventCancelled, claims.Subject, r.CancelledAt) // the reason is the caller's text: not in the event
	})
	if err != nil {
		return Process{}, err
	}
	s.log.InfoContext(ctx, "otp identification cancelled", slog.String("org_id", req.OrgID), slog.String("process_id", req.ID))
	return view(rec, rec.UpdatedAt), nil
}

// DeleteRequest deletes a process.
type DeleteRequest struct {
	Token string
	OrgID string
	ID    string
	// Force allows deleting a process that is not CREATED, when the token also carries
	// Config.ForceDeletePermission.
	Force bool
}

// Delete deletes a process, and its code with it. A CREATED process is always deleted; a
// process in any other state (an expired one included) only with Force and the
// ForceDeletePermission on the token, else forbidden (KindForbidden). The check, the
// deletion and its event (EventDeleted, with the state and whether it was forced) are one
// atomic step; a refused deletion's event goes to Deps.Events. It returns the state the
// process had.
func (s *Service) Delete(ctx context.Context, req DeleteRequest) (_ State, err error) {
	ctx, end := s.startOrg(ctx, "Delete", req.OrgID)
	defer func() { end(err) }()
	claims, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.AdminScopes)
	if err != nil {
		return "", err
	}
	now := s.clock.Now()
	var (
		state   State
		refused string
	)
	_, err = s.store.Update(ctx, req.OrgID, req.ID, func(r *ports.ProcessRecord) error {
		state = ports.EffectiveProcessState(*r, now)
		switch {
		case state == StateCreated:
		case !req.Force:
			refused = "force_required"
			return verifykit.New(verifykit.KindForbidden, "The OTP identification process is "+string(state)+": only force=true can delete it")
		case !claims.HasPermission(s.cfg.ForceDeletePermission):
			refused = "missing_permission"
			return verifykit.New(verifykit.KindForbidden, "Your token does not allow to force the deletion. Missing permission: "+s.cfg.ForceDeletePermission)
		}
		r.Deleted = true
		if s.keepsEvents() {
			r.Outbox = append(r.Outbox, deletedEvent(r, state, state != StateCreated, claims.Subject, now))
		}
		return nil
	})
	if err != nil {
		if refused != "" {
			s.deleteRefused(ctx, req.OrgID, req.ID, state, refused, claims.Subject, now)
		}
		return "", storeErr(err)
	}
	s.log.InfoContext(ctx, "otp identification deleted", slog.String("org_id", req.OrgID), slog.String("process_id", req.ID),
		slog.String("state", string(state)), slog.Bool("forced", state != StateCreated))
	return state, nil
}

// Get returns a process of the organisation, with the actor's data; never its code.
func (s *Service) Get(ctx context.Context, req Request) (_ Process, err error) {
	ctx, end := s.startOrg(ctx, "Get", req.OrgID)
	defer func() { end(err) }()
	if _, err := s.authorizeID(ctx, req.Token, req.OrgID, req.ID, s.cfg.AdminScopes); err != nil {
		return Process{}, err
	}
	rec, err := s.get(ctx, req.OrgID, req.ID)
	if err != nil {
		return Process{}, err
	}
	return view(rec, s.clock.Now()), nil
}

// ListRequest lists the processes of an organisation.
type ListRequest struct {
	Token string
	OrgID string
	// States keeps processes in one of these states (as reported: a CREATED process past
	// its expiry is EXPIRED); empty keeps all.
	States []State
	// Offset skips that many processes; Limit returns at most that many (0:
	// Config.DefaultPageSize; at most MaxPageSize).
	Offset int
	Limit  int
}

// ListResult is one page of processes, oldest first.
type ListResult struct {
	Processes []Process
	// Total counts every process that matches, on every page.
	Total  int
	Offset int
	Limit  int
}

// List returns the organisation's processes, oldest first, filtered by state and paged.
func (s *Service) List(ctx context.Context, req ListRequest) (_ ListResult, err error) {
	ctx, end := s.startOrg(ctx, "List", req.OrgID)
	defer func() { end(err) }()
	if _, err := s.authorize(ctx, req.Token, req.OrgID, MsgOrgNotFound, s.cfg.AdminScopes); err != nil {
		return ListResult{}, err
	}
	var v verifykit.Validation
	for i, st := range req.States {
		if !st.Valid() {
			v.Add(fmt.Sprintf("$.states[%d]", i), "inclusion", "must be one of CREATED, VALIDATED, CANCELLED, EXPIRED, BLOCKED")
		}
	}
	if req.Offset < 0 {
		v.Add("$.offset", "range", "must not be negative")
	}
	limit := req.Limit
	if limit == 0 {
		limit = s.cfg.DefaultPageSize
	}
	if limit < 0 || limit > s.cfg.MaxPageSize {
		v.Add("$.limit", "range", fmt.Sprintf("must be from 1 to %d", s.cfg.MaxPageSize))
	}
	if err := v.Err(); err != nil {
		return ListResult{}, err
	}
	now := s.clock.Now()
	page, err := s.store.List(ctx, ports.ProcessFilter{OrgID: req.OrgID, States: req.States, Now: now, Offset: req.Offset, Limit: limit})
	if err != nil {
		return ListResult{}, storeErr(err)
	}
	out := ListResult{Processes: make([]Process, 0, len(page.Processes)), Total: page.Total, Offset: req.Offset, Limit: limit}
	for _, r := range page.Processes {
		out.Processes = append(out.Processes, view(r, now))
	}
	return out, nil
}

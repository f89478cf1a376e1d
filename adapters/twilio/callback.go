package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// SignatureHeader is the header in which Twilio signs its requests.
const SignatureHeader = "X-Twilio-Signature"

// Signature computes what Twilio sends in X-Twilio-Signature for a request to fullURL (as
// Twilio requested it: scheme, host, path and query) with the POST parameters params: the
// base64 of the HMAC-SHA1, keyed by the auth token, of fullURL followed by every parameter,
// sorted by name, as its name and value concatenated.
func Signature(authToken, fullURL string, params url.Values) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(fullURL))
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		values := slices.Clone(params[name])
		slices.Sort(values)
		for _, v := range values {
			m.Write([]byte(name))
			m.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// ValidSignature reports, in constant time, whether signature is Twilio's signature of the
// request (see Signature).
func ValidSignature(authToken, fullURL string, params url.Values, signature string) bool {
	got, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || signature == "" {
		return false
	}
	want, _ := base64.StdEncoding.DecodeString(Signature(authToken, fullURL, params))
	return hmac.Equal(got, want)
}

// CallbackConfig configures a CallbackHandler.
type CallbackConfig struct {
	// AuthToken is the account's auth token, the key of Twilio's signatures. Required.
	AuthToken string
	// AccountSID, when set, refuses callbacks of any other account (403).
	AccountSID string
	// Marker marks the code of an undelivered message undeliverable: an
	// otp.ReceiptRouter, or one flow service. Required.
	Marker ports.UndeliverableMarker
	// PublicURL is the scheme and host (and any path prefix a proxy strips) through which
	// Twilio reaches the handler, e.g. "https://api.example.com"; the request's path and
	// query are added to it to check the signature. Default: taken from the request (its
	// Host, and https when it came over TLS).
	PublicURL string
	// Logger receives one line per callback (recipient masked). Default: discard.
	Logger *slog.Logger
}

// CallbackHandler is the http.Handler for Twilio's message status callbacks (the
// StatusCallback of Config.StatusCallbackURL). A callback without a valid
// X-Twilio-Signature is refused with 403 and changes nothing. A signed callback whose
// MessageStatus is "undelivered" or "failed" marks the code its URL names undeliverable
// (Marker); every other status is acknowledged and ignored. It answers 204 when done, and
// 503 when the marker's store failed, so that the callback may come again.
type CallbackHandler struct {
	token   string
	account string
	marker  ports.UndeliverableMarker
	public  string
	log     *slog.Logger
}

// NewCallbackHandler checks cfg and returns a CallbackHandler.
func NewCallbackHandler(cfg CallbackConfig) (*CallbackHandler, error) {
	var v verifykit.Validation
	if cfg.AuthToken == "" {
		v.AddEntry(verifykit.InvalidEntry{Entry: "AuthToken", EntryType: verifykit.EntryConfig, Rule: "required", Description: "is required"})
	}
	if cfg.Marker == nil {
		v.AddEntry(verifykit.InvalidEntry{Entry: "Marker", EntryType: verifykit.EntryConfig, Rule: "required", Description: "is required"})
	}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			v.AddEntry(verifykit.InvalidEntry{Entry: "PublicURL", EntryType: verifykit.EntryConfig, Rule: "format", Description: "must be an absolute http or https URL"})
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	h := &CallbackHandler{token: cfg.AuthToken, account: cfg.AccountSID, marker: cfg.Marker,
		public: strings.TrimSuffix(cfg.PublicURL, "/"), log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// maxCallbackBytes bounds a callback's body.
const maxCallbackBytes = 64 << 10

// ServeHTTP handles one status callback.
func (h *CallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxCallbackBytes)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	if !ValidSignature(h.token, h.fullURL(r), r.PostForm, r.Header.Get(SignatureHeader)) ||
		(h.account != "" && r.PostForm.Get("AccountSid") != h.account) {
		h.log.LogAttrs(ctx, slog.LevelWarn, "twilio callback refused: bad signature")
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	status := r.PostForm.Get("MessageStatus")
	attrs := []slog.Attr{slog.String("message_sid", bounded(r.PostForm.Get("MessageSid"))), slog.String("status", bounded(status)),
		slog.String("error_code", bounded(r.PostForm.Get("ErrorCode"))), slog.String("recipient", ports.MaskRecipient(strings.TrimPrefix(r.PostForm.Get("To"), "whatsapp:")))}
	if status != "undelivered" && status != "failed" {
		h.log.LogAttrs(ctx, slog.LevelDebug, "twilio callback", attrs...)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	q := r.URL.Query()
	ref := ports.DeliveryRef{Purpose: q.Get(QueryPurpose), Subject: q.Get(QuerySubject), CodeID: q.Get(QueryCodeID), Scope: q.Get(QueryScope)}
	if ref.IsZero() {
		h.log.LogAttrs(ctx, slog.LevelInfo, "twilio message undelivered (no code named)", attrs...)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	changed, err := h.marker.MarkUndeliverable(ctx, ref)
	attrs = append(attrs, slog.String("purpose", bounded(ref.Purpose)), slog.String("code_id", bounded(ref.CodeID)))
	switch {
	case err == nil:
		h.log.LogAttrs(ctx, slog.LevelInfo, "twilio message undelivered", append(attrs, slog.Bool("code_marked", changed))...)
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, verifykit.ErrInvalidInput), errors.Is(err, verifykit.ErrNotFound):
		// Our own reference, signed, that no flow takes: trying again will not help.
		h.log.LogAttrs(ctx, slog.LevelWarn, "twilio message undelivered, code not marked", append(attrs, slog.String("error", err.Error()))...)
		w.WriteHeader(http.StatusNoContent)
	default:
		h.log.LogAttrs(ctx, slog.LevelError, "twilio message undelivered, marking failed", append(attrs, slog.String("error", err.Error()))...)
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}
}

// fullURL is the URL Twilio requested, as it signed it.
func (h *CallbackHandler) fullURL(r *http.Request) string {
	if h.public != "" {
		return h.public + r.URL.RequestURI()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// bounded cuts a value a caller sent to a length fit for a log line.
func bounded(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

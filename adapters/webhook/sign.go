package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request, as the Standard Webhooks specification names them.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret: "whsec_" followed by the base64 of the key.
const SecretPrefix = "whsec_"

// Tolerance is how far a request's webhook-timestamp may lie from the receiver's clock,
// either way, for Verify to accept it: a replayed request is refused once it is older.
const Tolerance = 5 * time.Minute

// Errors of Sign and Verify, for errors.Is.
var (
	// ErrSecret: the secret is not "whsec_" followed by base64 (or its key is empty).
	ErrSecret = errors.New("webhook: malformed secret")
	// ErrMissingHeaders: webhook-id, webhook-timestamp or webhook-signature is missing.
	ErrMissingHeaders = errors.New("webhook: missing signature headers")
	// ErrTimestamp: webhook-timestamp is malformed or further than Tolerance from now.
	ErrTimestamp = errors.New("webhook: timestamp outside the tolerance")
	// ErrSignature: no signature of webhook-signature matches.
	ErrSignature = errors.New("webhook: signature does not match")
)

// key decodes secret ("whsec_<base64>") into the HMAC key.
func key(secret string) ([]byte, error) {
	enc, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	k, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(k) == 0 {
		return nil, ErrSecret
	}
	return k, nil
}

// Sign returns the webhook-signature value of a message: "v1," and the base64 of the
// HMAC-SHA256, keyed by secret, of id "." timestamp (Unix seconds) "." body. It is the
// signature of the Standard Webhooks specification; the events dispatcher reuses it.
func Sign(secret, id string, timestamp time.Time, body []byte) (string, error) {
	k, err := key(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(k, id, timestamp.Unix(), body)), nil
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// SetHeaders signs body as message id at timestamp and sets the three headers on h.
func SetHeaders(h http.Header, secret, id string, timestamp time.Time, body []byte) error {
	sig, err := Sign(secret, id, timestamp, body)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(timestamp.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Verify checks a signed request as a receiver does: the headers are present, the
// timestamp is within Tolerance of now, and one of the space-separated "v1,<base64>"
// signatures of webhook-signature is that of body (compared in constant time; other
// versions are ignored). body must be the raw bytes received, not re-encoded.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	k, err := key(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: malformed", ErrTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return ErrTimestamp
	}
	want := mac(k, id, ts, body)
	for _, s := range strings.Fields(sigs) {
		enc, ok := strings.CutPrefix(s, "v1,")
		if !ok {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(enc)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}

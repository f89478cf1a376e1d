package httpapi

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// jsonAppender is an answer that writes its own JSON: byte for byte what encoding/json
// (with SetEscapeHTML(false), as writeJSON encodes) writes for it, without reflection.
// appendJSON answers false when it cannot (a time outside the years JSON dates allow):
// writeJSON then encodes the value with encoding/json, which reports it.
// TestAppendJSONMatchesEncodingJSON holds each one to encoding/json's output.
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, bool)
}

// jsonObject appends the members of one JSON object.
type jsonObject struct {
	b    []byte
	more bool // a member was written: the next needs a comma
	ok   bool
}

func newJSONObject(b []byte) jsonObject { return jsonObject{b: append(b, '{'), ok: true} }

// key writes the member's name and the colon.
func (o *jsonObject) key(k string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = appendJSONString(o.b, k)
	o.b = append(o.b, ':')
}

func (o *jsonObject) str(k, v string) {
	o.key(k)
	o.b = appendJSONString(o.b, v)
}

// strOmitEmpty is str for a property tagged omitempty.
func (o *jsonObject) strOmitEmpty(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}

func (o *jsonObject) int(k string, v int) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, int64(v), 10)
}

func (o *jsonObject) bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

// time writes v as time.Time.MarshalJSON does (RFC 3339 with nanoseconds).
func (o *jsonObject) time(k string, v time.Time) {
	o.key(k)
	o.b = append(o.b, '"')
	var err error
	if o.b, err = v.AppendText(o.b); err != nil {
		o.ok = false
	}
	o.b = append(o.b, '"')
}

// timeOmitZero is time for a property tagged omitzero.
func (o *jsonObject) timeOmitZero(k string, v time.Time) {
	if !v.IsZero() {
		o.time(k, v)
	}
}

// object starts a nested object under k; the caller fills it and closes it with
// o.close(&in).
func (o *jsonObject) object(k string) jsonObject {
	o.key(k)
	return newJSONObject(o.b)
}

// close ends the nested object in that object started.
func (o *jsonObject) close(in *jsonObject) {
	o.b, o.ok = in.end(), o.ok && in.ok
}

// end closes the object and answers its bytes.
func (o *jsonObject) end() []byte { return append(o.b, '}') }

// appendJSONString appends s as a JSON string as encoding/json writes it without HTML
// escaping: '"', '\\' and control characters escaped (\b, \f, \n, \r, \t by name, the
// others as \u00XX), bytes that are not UTF-8 as \ufffd, and U+2028 and U+2029 as \u2028
// and \u2029.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (a wireActor) fill(o *jsonObject) {
	o.str("name", a.Name)
	o.strOmitEmpty("last_name", a.LastName)
	o.strOmitEmpty("email", a.Email)
	if m := a.MSISDN; m != nil {
		in := o.object("msisdn")
		in.strOmitEmpty("country_code", m.CountryCode)
		in.strOmitEmpty("phone_number", m.PhoneNumber)
		o.close(&in)
	}
	if d := a.IdentityDocument; d != nil {
		in := o.object("identity_document")
		in.strOmitEmpty("document_type", d.DocumentType)
		in.strOmitEmpty("document_number", d.DocumentNumber)
		in.strOmitEmpty("country", d.Country)
		o.close(&in)
	}
	o.strOmitEmpty("language", a.Language)
}

// appendJSON implements jsonAppender.
func (p wireProcess) appendJSON(b []byte) ([]byte, bool) {
	o := newJSONObject(b)
	o.str("id", p.ID)
	o.str("org_id", p.OrgID)
	o.str("status", string(p.State))
	in := o.object("actor")
	p.Actor.fill(&in)
	o.close(&in)
	o.strOmitEmpty("two_factor_type", string(p.TwoFactorType))
	in = o.object("channel")
	in.str("type", string(p.Channel.Type))
	in.bool("external", p.Channel.External)
	o.close(&in)
	o.time("created_at", p.CreatedAt)
	o.time("updated_at", p.UpdatedAt)
	o.time("expires_at", p.ExpiresAt)
	o.timeOmitZero("code_sent_at", p.CodeSentAt)
	o.int("codes_sent", p.CodesSent)
	o.int("failed_attempts", p.FailedAttempts)
	o.timeOmitZero("validated_at", p.ValidatedAt)
	o.strOmitEmpty("two_factor_evidence", p.TwoFactorEvidence)
	o.timeOmitZero("cancelled_at", p.CancelledAt)
	o.strOmitEmpty("cancel_reason", p.CancelReason)
	o.strOmitEmpty("code", p.Code)
	return o.end(), o.ok
}

// appendJSON implements jsonAppender.
func (m wireProcessMetadata) appendJSON(b []byte) ([]byte, bool) {
	o := newJSONObject(b)
	o.str("id", m.ID)
	o.str("status", string(m.State))
	o.time("expires_at", m.ExpiresAt)
	o.strOmitEmpty("two_factor_type", string(m.TwoFactorType))
	o.str("channel", string(m.Channel))
	o.str("masked_contact", m.MaskedContact)
	o.strOmitEmpty("language", m.Language)
	return o.end(), o.ok
}

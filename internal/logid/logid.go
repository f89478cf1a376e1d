// Package logid decides how an id that came with a request (a URL path segment, a body
// field, a token claim) appears in a log line. Such an id is the caller's to choose: it may
// be 16 kB long, hold control characters that fake log lines, or be a phone number, an
// e-mail address or a document number typed where an id belongs. Logs keep an id only when
// it is well-formed and bounded; any other value is replaced by a fixed marker and its
// length, so that support can still tell "a malformed id of 16208 bytes" from a real one.
//
// Every flow logs request-supplied ids through Of or Attr; it is the one place that rule
// lives.
package logid

import (
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the longest id a log line holds, in bytes. UUIDs (36) and the ids of the
// original APIs fit.
const MaxLen = 64

// WellFormed reports whether id is 1 to MaxLen bytes of ASCII letters, digits, '-', '_',
// '.' and ':'. Those are the characters of UUIDs and of the ids hosts use; they exclude
// '+' and '@', so neither a phone number in E.164 form nor an e-mail address passes.
func WellFormed(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// Of returns id when it is WellFormed, and otherwise the marker "[malformed id: N bytes]"
// with N the length of id: never a byte of the value itself.
func Of(id string) string {
	if WellFormed(id) {
		return id
	}
	return "[malformed id: " + strconv.Itoa(len(id)) + " bytes]"
}

// Attr returns the log attribute key=Of(id).
func Attr(key, id string) slog.Attr { return slog.String(key, Of(id)) }

// MaxTextLen is the most of a free text (an error's text, a panic value) a log line holds,
// in bytes.
const MaxTextLen = 512

// Text bounds a free text that may carry what a caller sent (an error that quotes its
// input, a panic value): control characters, which could fake a log line, become '?', and
// a text longer than MaxTextLen bytes is cut at a character boundary and marked with its
// full length.
func Text(s string) string {
	if len(s) <= MaxTextLen && !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		if i >= MaxTextLen {
			b.WriteString("…[" + strconv.Itoa(len(s)) + " bytes]")
			break
		}
		if unsafeRune(r) {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unsafeRune reports whether r must not reach a log line: a control character, or a byte
// that is not UTF-8 (decoded as utf8.RuneError).
func unsafeRune(r rune) bool { return r == utf8.RuneError || unicode.IsControl(r) }

// TextAttr returns the log attribute key=Text(s).
func TextAttr(key, s string) slog.Attr { return slog.String(key, Text(s)) }

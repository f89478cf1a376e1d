package otp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"hash"
	"math"
	"sync"
)

// generateCode returns a code of the given number of digits, uniform over all of them
// (leading zeros included), drawn from crypto/rand.
func generateCode(digits int) string {
	return formatCode(uniform(pow10(digits), readUint64), digits)
}

func readUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead.
	return binary.LittleEndian.Uint64(b[:])
}

func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}

// uniform returns a value uniform in [0, n) from next's uniform 64-bit values, by
// rejection: values at or above the largest multiple of n are drawn again, so no value of
// [0, n) is favoured (no modulo bias).
func uniform(n uint64, next func() uint64) uint64 {
	limit := math.MaxUint64 - math.MaxUint64%n
	for {
		if v := next(); v < limit {
			return v % n
		}
	}
}

// formatCode writes v as exactly digits decimal digits, zero-padded.
func formatCode(v uint64, digits int) string {
	var buf [MaxDigits]byte
	for i := digits - 1; i >= 0; i-- {
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return string(buf[:digits])
}

// validCode reports whether code has MinDigits to MaxDigits ASCII digits and nothing else.
func validCode(code string) bool {
	if len(code) < MinDigits || len(code) > MaxDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// hasher computes keyed hashes of codes with one secret. HMAC states are pooled, so the hot
// path allocates little and goroutines do not share state.
type hasher struct {
	// id identifies the secret in stored records (ports.OTPRecord.KeyID) without revealing
	// it: the first 31 bits of SHA-256 of the secret. It does not depend on the secret's
	// position in Config.Secrets, so secrets can be reordered when they rotate.
	id   int
	pool sync.Pool
}

type macState struct {
	mac hash.Hash
	buf []byte
	out [sha256.Size]byte
}

func newHasher(secret []byte) *hasher {
	key := append([]byte(nil), secret...)
	fp := sha256.Sum256(key)
	h := &hasher{id: int(binary.BigEndian.Uint32(fp[:4]) >> 1)}
	h.pool.New = func() any {
		return &macState{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)}
	}
	return h
}

// sum appends HMAC(secret, fields...) to dst and returns it. Fields are length-prefixed so
// that no two different field lists hash alike.
func (h *hasher) sum(dst []byte, fields ...string) []byte {
	st := h.compute(fields)
	dst = append(dst, st.out[:]...)
	h.pool.Put(st)
	return dst
}

// sumCode appends the hash of a code to dst: HMAC over the code's id, purpose, subject and
// the code, and, when binding is not empty, the binding as one more length-prefixed field.
// An empty binding adds no field, so codes issued without one hash exactly as before.
func (h *hasher) sumCode(dst []byte, id, purpose, subject, code string, binding []byte) []byte {
	if len(binding) == 0 {
		return h.sum(dst, id, purpose, subject, code)
	}
	return h.sum(dst, id, purpose, subject, code, string(binding))
}

// matchesCode reports, in constant time, whether want is the sumCode of the code, with the
// same binding.
func (h *hasher) matchesCode(want []byte, id, purpose, subject, code string, binding []byte) bool {
	if len(binding) == 0 {
		return h.matches(want, id, purpose, subject, code)
	}
	return h.matches(want, id, purpose, subject, code, string(binding))
}

// matches reports, in constant time, whether HMAC(secret, fields...) equals want.
func (h *hasher) matches(want []byte, fields ...string) bool {
	st := h.compute(fields)
	ok := subtle.ConstantTimeCompare(st.out[:], want) == 1
	h.pool.Put(st)
	return ok
}

// compute leaves HMAC(secret, fields...) in the out field of a pooled state, which the
// caller returns to the pool.
func (h *hasher) compute(fields []string) *macState {
	st := h.pool.Get().(*macState)
	b := st.buf[:0]
	for _, f := range fields {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	st.mac.Reset()
	st.mac.Write(b)
	st.mac.Sum(st.out[:0])
	st.buf = b[:0]
	return st
}

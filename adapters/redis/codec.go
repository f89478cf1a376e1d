package redis

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// codecVersion is the first byte of an encoded Verification. Version 2 added
// ports.Verification.Version, after the failures; values of version 1 (written before it)
// still decode, with Version 0, so the next write of such a Verification stores 1.
const codecVersion = 2

// encodeVerification renders v in the adapter's binary form: a version byte, then every
// field, strings and the hash length-prefixed (any byte round-trips, invalid UTF-8 too),
// times as seconds and nanoseconds since the Unix epoch (exact), the zero time marked as
// such, the Verification's Version last. It holds what it is given: a code's keyed hash,
// never a code. Outbox is not encoded.
func encodeVerification(v ports.Verification) []byte {
	c := &v.Code
	b := make([]byte, 0, 96+len(c.ID)+len(c.Purpose)+len(c.Subject)+len(c.Hash)+12*len(v.Failures))
	b = append(b, codecVersion)
	for _, s := range []string{c.ID, c.Purpose, c.Subject, string(c.State)} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Hash)))
	b = append(b, c.Hash...)
	for _, n := range []int{c.KeyID, c.Attempts, c.MaxAttempts} {
		b = binary.AppendVarint(b, int64(n))
	}
	for _, t := range []time.Time{c.CreatedAt, c.ExpiresAt, c.UsedAt, v.KeepUntil} {
		b = appendTime(b, t)
	}
	b = binary.AppendUvarint(b, uint64(len(v.Failures)))
	for _, t := range v.Failures {
		b = appendTime(b, t)
	}
	return binary.AppendVarint(b, v.Version)
}

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// errCorrupt is the cause of a Verification that cannot be decoded.
var errCorrupt = errors.New("redis: malformed verification")

// decoder reads what encodeVerification wrote; the first failure sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errCorrupt
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	if len(d.b) == 0 {
		d.err = errCorrupt
		return time.Time{}
	}
	set := d.b[0]
	d.b = d.b[1:]
	switch set {
	case 0:
		return time.Time{}
	case 1:
		sec := d.varint()
		nsec := d.uvarint()
		if nsec >= uint64(time.Second) {
			d.err = errCorrupt
		}
		return time.Unix(sec, int64(nsec)).UTC()
	}
	d.err = errCorrupt
	return time.Time{}
}

// decodeVerification reads what encodeVerification wrote, in this codecVersion or the one
// before. The result shares no memory with b.
func decodeVerification(b []byte) (ports.Verification, error) {
	if len(b) == 0 || (b[0] != codecVersion && b[0] != 1) {
		return ports.Verification{}, errCorrupt
	}
	d := &decoder{b: b[1:]}
	var v ports.Verification
	c := &v.Code
	c.ID = string(d.bytes())
	c.Purpose = string(d.bytes())
	c.Subject = string(d.bytes())
	c.State = ports.CodeState(d.bytes())
	if h := d.bytes(); len(h) > 0 {
		c.Hash = append([]byte(nil), h...)
	}
	c.KeyID, c.Attempts, c.MaxAttempts = int(d.varint()), int(d.varint()), int(d.varint())
	c.CreatedAt, c.ExpiresAt, c.UsedAt, v.KeepUntil = d.time(), d.time(), d.time(), d.time()
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) { // every time takes at least one byte
		d.err = errCorrupt
	}
	if d.err == nil && n > 0 {
		v.Failures = make([]time.Time, 0, n)
		for range n {
			v.Failures = append(v.Failures, d.time())
		}
	}
	if b[0] >= 2 {
		v.Version = d.varint()
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return ports.Verification{}, d.err
	}
	return v, nil
}

package postgres

import (
	"time"

	"github.com/verifykit/verifykit/ports"
)

// verificationJSON is a ports.Verification as a jsonb column holds it. Byte strings (ids,
// purpose, subject, hash) are base64, since jsonb keeps neither NUL nor invalid UTF-8;
// times are microseconds since the Unix epoch, null for the zero time; nil and empty slices
// stay apart. So every Verification round-trips exactly, to the microsecond.
type verificationJSON struct {
	ID          []byte  `json:"id"`
	Purpose     []byte  `json:"purpose"`
	Subject     []byte  `json:"subject"`
	Hash        []byte  `json:"hash"`
	KeyID       int     `json:"key_id"`
	State       string  `json:"state"`
	Attempts    int     `json:"attempts"`
	MaxAttempts int     `json:"max_attempts"`
	CreatedAt   *int64  `json:"created_at"`
	ExpiresAt   *int64  `json:"expires_at"`
	UsedAt      *int64  `json:"used_at"`
	Failures    []int64 `json:"failures"`
	KeepUntil   *int64  `json:"keep_until"`
}

// toVerificationJSON is v as its jsonb column holds it.
func toVerificationJSON(v ports.Verification) verificationJSON {
	c := v.Code
	out := verificationJSON{
		ID: []byte(c.ID), Purpose: []byte(c.Purpose), Subject: []byte(c.Subject), Hash: c.Hash,
		KeyID: c.KeyID, State: string(c.State), Attempts: c.Attempts, MaxAttempts: c.MaxAttempts,
		CreatedAt: micros(c.CreatedAt), ExpiresAt: micros(c.ExpiresAt), UsedAt: micros(c.UsedAt),
		KeepUntil: micros(v.KeepUntil),
	}
	if v.Failures != nil {
		out.Failures = make([]int64, len(v.Failures))
		for i, t := range v.Failures {
			out.Failures[i] = t.UnixMicro()
		}
	}
	return out
}

// verification is the ports.Verification j holds.
func (j verificationJSON) verification() ports.Verification {
	v := ports.Verification{
		Code: ports.OTPRecord{
			ID: string(j.ID), Purpose: string(j.Purpose), Subject: string(j.Subject), Hash: j.Hash,
			KeyID: j.KeyID, State: ports.CodeState(j.State), Attempts: j.Attempts, MaxAttempts: j.MaxAttempts,
			CreatedAt: fromMicros(j.CreatedAt), ExpiresAt: fromMicros(j.ExpiresAt), UsedAt: fromMicros(j.UsedAt),
		},
		KeepUntil: fromMicros(j.KeepUntil),
	}
	if j.Failures != nil {
		v.Failures = make([]time.Time, len(j.Failures))
		for i, us := range j.Failures {
			v.Failures[i] = time.UnixMicro(us).UTC()
		}
	}
	return v
}

// micros is t in microseconds since the Unix epoch, nil for the zero time.
func micros(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	us := t.UnixMicro()
	return &us
}

// fromMicros is the time micros made, in UTC; the zero time for nil.
func fromMicros(us *int64) time.Time {
	if us == nil {
		return time.Time{}
	}
	return time.UnixMicro(*us).UTC()
}

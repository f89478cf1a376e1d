package otp

import (
	"context"
	"errors"
	"log/slog"
	"maps"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// Delivery receipts. A provider that reports, after the fact, that a message was not
// delivered (a Twilio status callback "undelivered") should make the code it carried
// unusable, so that the person's next attempt is told there is no code to match instead of
// waiting for one that never comes. Draw fills ports.Message.Ref with the code's purpose,
// subject and id; a sender carries it to the provider and its receipt handler back to a
// ports.UndeliverableMarker: the flow that owns the purpose (personrequest.Service,
// otpprocess.Service) or Service for standalone codes. ReceiptRouter picks the
// one by purpose.

// SetReceiptScope sets the Scope of the delivery reference of d's message: what its flow
// needs beside the subject to find the record (an OTP identification process's
// organisation). Call it before Send.
func (d *Draft) SetReceiptScope(scope string) { d.msg.Ref.Scope = scope }

// MarkUndeliverable marks the standalone code ref names (one of Issue) undeliverable, if
// it is still the active code of its purpose and subject, in one Update of its
// Verification. It reports whether it changed anything; a code already used, superseded,
// expired or unknown is left as it is.
func (s *Service) MarkUndeliverable(ctx context.Context, ref ports.DeliveryRef) (_ bool, result error) {
	ctx, end := s.start(ctx, "MarkUndeliverable")
	defer func() { end(result) }()
	if err := CheckDeliveryRef(ref); err != nil {
		return false, err
	}
	_, err := s.store.Update(ctx, ref.Purpose, ref.Subject, func(v *ports.Verification) error {
		if !MarkUndeliverable(v, ref.CodeID) {
			return errUnchanged
		}
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		return false, nil
	case err != nil:
		return false, unavailable("marking a code undeliverable", err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "otp code undeliverable by receipt",
		slog.String("purpose", ref.Purpose), slog.String("subject", ref.Subject), slog.String("code_id", ref.CodeID))
	return true, nil
}

// CheckDeliveryRef checks that ref names a code: Purpose, Subject and CodeID are given,
// and none is longer than a key the engine accepts. It answers KindInvalidInput otherwise.
func CheckDeliveryRef(ref ports.DeliveryRef) error {
	var v verifykit.Validation
	checkKey(&v, "$.purpose", ref.Purpose)
	checkKey(&v, "$.subject", ref.Subject)
	checkKey(&v, "$.code_id", ref.CodeID)
	if len(ref.Scope) > maxKeyLen {
		v.Add("$.scope", "length", "is too long")
	}
	return v.Err()
}

// ErrUnknownPurpose is returned (wrapped in a KindNotFound error) by ReceiptRouter when no
// marker is registered for a receipt's purpose and there is no fallback.
var ErrUnknownPurpose = errors.New("otp: no receipt marker for this purpose")

// ReceiptRouter is a ports.UndeliverableMarker that hands each receipt to the marker
// registered for its purpose, or to a fallback (typically the engine itself, for
// standalone codes). It is built once and never changes, so it is safe for concurrent use.
type ReceiptRouter struct {
	routes   map[string]ports.UndeliverableMarker
	fallback ports.UndeliverableMarker
}

// NewReceiptRouter returns a router from purposes to markers, e.g.
//
//	otp.NewReceiptRouter(codes, map[string]ports.UndeliverableMarker{
//		personrequest.DefaultConfig().Purpose:  requests,
//		otpprocess.DefaultCodePurpose: processes,
//	})
//
// fallback (may be nil) receives the purposes that routes does not name.
func NewReceiptRouter(fallback ports.UndeliverableMarker, routes map[string]ports.UndeliverableMarker) *ReceiptRouter {
	return &ReceiptRouter{routes: maps.Clone(routes), fallback: fallback}
}

// MarkUndeliverable hands ref to the marker of its purpose.
func (r *ReceiptRouter) MarkUndeliverable(ctx context.Context, ref ports.DeliveryRef) (bool, error) {
	if err := CheckDeliveryRef(ref); err != nil {
		return false, err
	}
	m, ok := r.routes[ref.Purpose]
	if !ok {
		m = r.fallback
	}
	if m == nil {
		return false, verifykit.Wrap(verifykit.KindNotFound, "No flow handles delivery receipts of this purpose.", ErrUnknownPurpose)
	}
	return m.MarkUndeliverable(ctx, ref)
}

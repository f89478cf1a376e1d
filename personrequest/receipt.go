package personrequest

import (
	"context"
	"errors"
	"log/slog"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/internal/storefail"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// MarkUndeliverable marks the code ref names undeliverable, when a delivery receipt (a
// provider's status callback) says the SMS that carried it never arrived: in one Update of
// the request ref.Subject, and only while that code is still the request's active code. An
// approval with it then answers "Invalid verification code" (no active code; the stored
// code's state is ports.CodeUndeliverable), and a resend issues a new one. It reports
// whether it changed the request: a code already used or replaced, or a request that no
// longer exists, is left as it is.
//
// Unlike a delivery that fails while the request is answered, a receipt does not put the
// request's current authentication method back: the method was saved with a code that did
// go out to the provider, and which method it was before is no longer known.
//
// It implements ports.UndeliverableMarker for the purpose Config.Purpose; a reference of
// another purpose answers KindInvalidInput.
func (s *Service) MarkUndeliverable(ctx context.Context, ref ports.DeliveryRef) (_ bool, result error) {
	ctx, end := s.start(ctx, "MarkUndeliverable")
	defer func() { end(result) }()
	if err := otp.CheckDeliveryRef(ref); err != nil {
		return false, err
	}
	if ref.Purpose != s.cfg.Purpose {
		return false, verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
			Entry: "$.purpose", EntryType: verifykit.EntryJSONProperty, Rule: "inclusion", Description: "is not the purpose of person request codes",
		})
	}
	_, err := s.store.Update(ctx, ref.Subject, func(r *ports.PersonRequest) error {
		if !otp.MarkUndeliverable(&r.Verification, ref.CodeID) {
			return errUnchanged
		}
		s.emitUndeliverable(r, ref.CodeID, s.clock.Now())
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged), errors.Is(err, ports.ErrPersonRequestNotFound):
		return false, nil
	case err != nil:
		return false, storefail.Wrap("Person requests are unavailable; try again later.", err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "person request code undeliverable by receipt",
		logid.Attr("person_request_id", ref.Subject), slog.String("code_id", ref.CodeID))
	return true, nil
}

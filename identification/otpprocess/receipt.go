package otpprocess

import (
	"context"
	"errors"
	"log/slog"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// MarkUndeliverable marks the code ref names undeliverable, when a delivery receipt (a
// provider's status callback) says the message that carried it never arrived: in one
// Update of the process ref.Subject of the organisation ref.Scope, and only while that
// code is still the process's active code. A validation with it then answers as for any
// code that is not active (the stored code's state is ports.CodeUndeliverable), and a
// resend issues a new one. It reports whether it changed the process: a code already used
// or replaced, or a process that no longer exists, is left as it is.
//
// A process is found by its organisation and id, so the reference must carry the
// organisation in Scope (otp.Draft.SetReceiptScope); a reference without it, or of another
// purpose than Config.CodePurpose, answers KindInvalidInput. It implements
// ports.UndeliverableMarker.
func (s *Service) MarkUndeliverable(ctx context.Context, ref ports.DeliveryRef) (_ bool, result error) {
	ctx, end := s.startOrg(ctx, "MarkUndeliverable", ref.Scope)
	defer func() { end(result) }()
	if err := otp.CheckDeliveryRef(ref); err != nil {
		return false, err
	}
	var v verifykit.Validation
	if ref.Purpose != s.cfg.CodePurpose {
		v.Add("$.purpose", "inclusion", "is not the purpose of OTP identification codes")
	}
	v.Required("$.scope", ref.Scope)
	if err := v.Err(); err != nil {
		return false, err
	}
	_, err := s.store.Update(ctx, ref.Scope, ref.Subject, func(r *ports.ProcessRecord) error {
		if !otp.MarkUndeliverable(&r.Verification, ref.CodeID) {
			return errUnchanged
		}
		s.emitUndeliverable(r, ref.CodeID, s.clock.Now())
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged), errors.Is(err, ports.ErrProcessNotFound):
		return false, nil
	case err != nil:
		return false, verifykit.Unavailable("OTP identification is unavailable; try again later.", err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "otp identification code undeliverable by receipt",
		slog.String("process_id", ref.Subject), slog.String("code_id", ref.CodeID))
	return true, nil
}

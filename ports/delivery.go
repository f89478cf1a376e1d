package ports

import "context"

// DeliveryRef names the one-time code a message carries, so that a delivery receipt that
// arrives later (a provider's status callback saying the message was undelivered) can find
// the code again and mark it undeliverable. The otp engine fills it in when it sends a code
// (Message.Ref); a sender that supports receipts carries it to the provider and back, e.g.
// in a status-callback URL the provider signs. It holds no secret: never the code itself.
type DeliveryRef struct {
	// Purpose is the code's purpose, e.g. "person_request"; it tells which flow owns it.
	Purpose string
	// Subject is what the code is about, e.g. a person request's id.
	Subject string
	// CodeID identifies the code (ports.OTPRecord.ID).
	CodeID string
	// Scope is what the flow needs beside Subject to find the record, e.g. the organisation
	// of an OTP identification process; empty when the flow needs nothing more.
	Scope string
}

// IsZero reports whether r names no code.
func (r DeliveryRef) IsZero() bool { return r.CodeID == "" }

// UndeliverableMarker marks the code a DeliveryRef names undeliverable, if it is still the
// active code of its record, in one atomic write of that record. It reports whether it
// changed anything: false (and no error) when the code was already used, replaced,
// expired or is unknown, so a late or repeated receipt changes nothing. The flow services
// (personrequest.Service, otpprocess.Service, otp.Service for standalone codes)
// implement it; otp.ReceiptRouter sends a receipt to the one its purpose names.
type UndeliverableMarker interface {
	MarkUndeliverable(ctx context.Context, ref DeliveryRef) (bool, error)
}

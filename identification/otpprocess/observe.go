package otpprocess

import (
	"context"

	"github.com/verifykit/verifykit/internal/observe"
	"github.com/verifykit/verifykit/ports"
)

// observeFlow is the service's ports.Operation.Flow.
const observeFlow = "identification"

// observed defaults d.Observer and wraps the ports of d for it: a no-op Observer leaves
// them as they are.
func (d Deps) observed() Deps {
	d.Observer = observe.Or(d.Observer)
	d.Store = observe.ProcessStore(d.Observer, observeFlow, d.Store)
	d.Tokens = observe.TokenVerifier(d.Observer, observeFlow, d.Tokens)
	d.SMS = observe.Sender(d.Observer, observeFlow, "sms", d.SMS)
	d.Email = observe.Sender(d.Observer, observeFlow, "email", d.Email)
	d.WhatsApp = observe.Sender(d.Observer, observeFlow, "whatsapp", d.WhatsApp)
	return d
}

// startOrg starts the use case name of the process service, for the organisation orgID.
func (s *Service) startOrg(ctx context.Context, name, orgID string) (context.Context, ports.End) {
	return s.obs.Start(ctx, ports.Operation{Flow: observeFlow, Name: name, OrgID: orgID})
}

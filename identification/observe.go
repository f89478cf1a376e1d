package identification

import (
	"context"

	"github.com/verifykit/verifykit/internal/observe"
	"github.com/verifykit/verifykit/ports"
)

// observeFlow is the services' ports.Operation.Flow.
const observeFlow = "identification"

// observed defaults d.Observer and wraps the ports of d for it: a no-op Observer leaves
// them as they are.
func (d ProfileDeps) observed() ProfileDeps {
	d.Observer = observe.Or(d.Observer)
	d.Profiles = observe.ProfileStore(d.Observer, observeFlow, d.Profiles)
	d.ResetRequests = observe.ResetRequestStore(d.Observer, observeFlow, d.ResetRequests)
	d.Tokens = observe.TokenVerifier(d.Observer, observeFlow, d.Tokens)
	return d
}

// start starts the use case name of the profile service.
func (s *ProfileService) start(ctx context.Context, name string) (context.Context, ports.End) {
	return s.obs.Start(ctx, ports.Operation{Flow: observeFlow, Name: name})
}

// observed defaults d.Observer and wraps the ports of d for it: a no-op Observer leaves
// them as they are.
func (d ProcessDeps) observed() ProcessDeps {
	d.Observer = observe.Or(d.Observer)
	d.Store = observe.ProcessStore(d.Observer, observeFlow, d.Store)
	d.Tokens = observe.TokenVerifier(d.Observer, observeFlow, d.Tokens)
	d.SMS = observe.Sender(d.Observer, observeFlow, "sms", d.SMS)
	d.Email = observe.Sender(d.Observer, observeFlow, "email", d.Email)
	d.WhatsApp = observe.Sender(d.Observer, observeFlow, "whatsapp", d.WhatsApp)
	return d
}

// startOrg starts the use case name of the process service, for the organisation orgID.
func (s *ProcessService) startOrg(ctx context.Context, name, orgID string) (context.Context, ports.End) {
	return s.obs.Start(ctx, ports.Operation{Flow: observeFlow, Name: name, OrgID: orgID})
}

package authmethod

import (
	"context"

	"github.com/verifykit/verifykit/internal/observe"
	"github.com/verifykit/verifykit/ports"
)

// observeFlow is the service's ports.Operation.Flow.
const observeFlow = "authmethod"

// observed defaults d.Observer and wraps the ports of d for it: a no-op Observer leaves
// them as they are.
func (d Deps) observed() Deps {
	d.Observer = observe.Or(d.Observer)
	d.Persons = observe.PersonStore(d.Observer, observeFlow, d.Persons)
	d.Methods = observe.AuthMethodStore(d.Observer, observeFlow, d.Methods)
	d.Confidants = observe.ConfidantStore(d.Observer, observeFlow, d.Confidants)
	d.Tokens = observe.TokenVerifier(d.Observer, observeFlow, d.Tokens)
	return d
}

// start starts the use case name of the service.
func (s *Service) start(ctx context.Context, name string) (context.Context, ports.End) {
	return s.obs.Start(ctx, ports.Operation{Flow: observeFlow, Name: name})
}

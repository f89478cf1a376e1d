// Package storefail turns a failure of a store or limiter into the *verifykit.Error a flow
// answers. Stores return the sentinels of their port or wrapped causes, never a message
// meant for people (see ports.ErrUnavailable); the flows word it, here or in their own
// mapping of the sentinels they expect.
package storefail

import (
	"errors"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// MsgInvalidText answers a value a store cannot hold (ports.ErrInvalidText).
const MsgInvalidText = "A value cannot be stored: text must be valid UTF-8 without NUL characters."

// Wrap answers err, a failure of a store or limiter, keeping it as the cause:
//   - nil stays nil;
//   - a *verifykit.Error (the error of an update function the flow passed) comes back as
//     it is;
//   - ports.ErrInvalidText is KindInvalidInput with MsgInvalidText: trying again cannot
//     help, and nothing was stored;
//   - anything else is KindUnavailable with message, which should say that trying again
//     later may work.
func Wrap(message string, err error) error {
	var e *verifykit.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return err
	case errors.Is(err, ports.ErrInvalidText):
		return verifykit.Wrap(verifykit.KindInvalidInput, MsgInvalidText, err)
	}
	return verifykit.Wrap(verifykit.KindUnavailable, message, err)
}

// Package storeerr wraps the failures of the database adapters' stores the way package
// ports asks (see ports.ErrUnavailable): the cause, kept for errors.Is and errors.As, with
// the class of ports it belongs to, and never a message meant for people.
package storeerr

import "errors"

// Error is a failure of a database: its cause, and its class (ports.ErrUnavailable,
// ports.ErrInvalidText, or nil for none).
type Error struct {
	adapter string
	class   error
	err     error
}

// Wrap returns err, a failure of the database behind adapter ("postgres", "redis"), with
// class (nil for none). nil stays nil, and an error Wrap already made comes back as it is.
func Wrap(adapter string, class, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{adapter: adapter, class: class, err: err}
}

// Error names the adapter, the class and the cause.
func (e *Error) Error() string {
	if e.class == nil {
		return e.adapter + ": " + e.err.Error()
	}
	return e.adapter + ": " + e.class.Error() + ": " + e.err.Error()
}

// Unwrap gives the class and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.class == nil {
		return []error{e.err}
	}
	return []error{e.class, e.err}
}

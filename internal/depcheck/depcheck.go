// Package depcheck holds what every service constructor of verifykit does with its
// dependencies: report the missing ones, all at once, and default the optional ones.
package depcheck

import (
	"log/slog"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/ports"
)

// Check collects the missing dependencies of a constructor. The zero value is ready.
type Check struct {
	v verifykit.Validation
}

// Require records the dependency name as missing when missing is true.
func (c *Check) Require(name string, missing bool) {
	if missing {
		c.v.AddEntry(verifykit.InvalidEntry{Entry: name, EntryType: verifykit.EntryConfig, Rule: "required", Description: "is required"})
	}
}

// Err returns a KindInvalidInput error naming every missing dependency, or nil.
func (c *Check) Err() error { return c.v.Err() }

// ClockOr returns c, or the system clock when c is nil.
func ClockOr(c ports.Clock) ports.Clock {
	if c == nil {
		return ports.SystemClock{}
	}
	return c
}

// LoggerOr returns l, or a logger that discards everything when l is nil.
func LoggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

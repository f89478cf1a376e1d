package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
)

// describe says what an error tells the person who made the request, as a client of the
// SDK would show it: its kind, its message and every entry it names with the rule broken,
// and when to try again. It leaves out the wrapped causes, which are for logs.
func describe(err error) string {
	if err == nil {
		return "no error"
	}
	var e *verifykit.Error
	if !errors.As(err, &e) {
		return "unexpected error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", verifykit.KindOf(e), e.Message)
	for i, in := range e.Invalid {
		if i == 0 {
			b.WriteString(" — ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(in.Entry)
		if in.Description != "" {
			b.WriteString(" " + in.Description)
		}
	}
	if e.RetryAfter > 0 && !strings.Contains(e.Message, "try again") {
		fmt.Fprintf(&b, " (try again in %s)", e.RetryAfter.Round(time.Second))
	}
	return b.String()
}

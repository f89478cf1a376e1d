package verifykit_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/verifykit/verifykit"
)

// Every use case returns a *verifykit.Error: match its kind with errors.Is, read its
// message, entries and RetryAfter with errors.As.
func Example() {
	// What a resend answers when the recipient got a code moments ago (the otp engine's
	// send limit), wrapped as a caller might wrap it.
	err := fmt.Errorf("resend: %w", &verifykit.Error{
		Kind:       verifykit.KindRateLimited,
		Message:    "Too many verification codes were sent to this recipient; try again in 30s.",
		RetryAfter: 30 * time.Second,
	})

	fmt.Println(errors.Is(err, verifykit.ErrRateLimited), verifykit.KindOf(err))
	var ve *verifykit.Error
	if errors.As(err, &ve) {
		fmt.Println("try again in", ve.RetryAfter)
	}
	fmt.Println(verifykit.KindOf(nil))
	// Output:
	// true rate_limited
	// try again in 30s
	// none
}

// Validation collects every problem of an input before answering, so a person learns all
// of them at once.
func ExampleValidation() {
	var v verifykit.Validation
	v.Add("$.phone_number", "format", "must be a phone number in E.164 form")
	v.Add("$.alias", "required", "is required")
	err := v.Err()
	fmt.Println(verifykit.KindOf(err))
	for _, in := range err.(*verifykit.Error).Invalid {
		fmt.Println(in.Entry, in.Rule)
	}
	// Output:
	// invalid_input
	// $.phone_number format
	// $.alias required
}

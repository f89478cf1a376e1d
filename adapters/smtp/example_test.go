package smtp_test

import (
	"errors"
	"fmt"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/smtp"
	"github.com/verifykit/verifykit/ports"
)

// A host configures the sender from one URL, e.g. the SMTP_URL environment variable.
func ExampleParseURL() {
	cfg, err := smtp.ParseURL("smtp://mailer:app%20password@smtp.example.com:587?from=no-reply@example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.Host, cfg.Port, cfg.TLS == smtp.StartTLS, cfg.Username, cfg.From)
	sender, err := smtp.New(cfg) // connects only when a message is sent
	fmt.Println(sender != nil, err)
	// Output:
	// smtp.example.com 587 true mailer no-reply@example.com
	// true <nil>
}

// A recipient that would inject a header is refused before anything is sent.
func ExampleCheckAddress() {
	err := smtp.CheckAddress("a@b.c\r\nBcc: x@y")
	fmt.Println(errors.Is(err, verifykit.ErrInvalidInput), errors.Is(err, ports.ErrPermanent))
	fmt.Println(smtp.CheckAddress("ann@example.org"))
	// Output:
	// true true
	// <nil>
}

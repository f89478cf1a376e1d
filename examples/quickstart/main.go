// Command quickstart runs every verifykit flow in-process on the in-memory adapters and
// tells what happens at each step. It needs no set-up:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

// demo is one flow of the quickstart.
type demo struct {
	title string
	run   func(ctx context.Context, w io.Writer) error
}

// demos lists the flows in the order they run.
func demos() []demo {
	return []demo{
		{"One-time codes (otp)", demoOTP},
		{"Person requests (personrequest)", demoPersonRequest},
		{"Authentication methods (authmethod)", demoAuthMethod},
		{"Reset identification with remarks (identification)", demoProfile},
		{"OTP identification processes (identification)", demoProcess},
	}
}

func main() {
	ctx := context.Background()
	for i, d := range demos() {
		fmt.Printf("\n== %d. %s ==\n", i+1, d.title)
		if err := d.run(ctx, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "quickstart: %s: %v\n", d.title, err)
			os.Exit(1)
		}
	}
	fmt.Println("\nAll flows ran.")
}

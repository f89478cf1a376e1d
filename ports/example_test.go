package ports_test

import (
	"fmt"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// DecideRate is the sliding-window rule every RateLimiter implements: an event is allowed
// when, for every limit, fewer than Max events lie in (now-Per, now].
func ExampleDecideRate() {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	sent := []time.Time{start, start.Add(10 * time.Second)}
	limits := []ports.RateLimit{{Max: 1, Per: 30 * time.Second}, {Max: 5, Per: time.Hour}}

	d := ports.DecideRate(sent, start.Add(20*time.Second), limits)
	fmt.Println(d.Allowed, d.RetryAfter)
	d = ports.DecideRate(sent, start.Add(40*time.Second), limits)
	fmt.Println(d.Allowed)
	// Output:
	// false 20s
	// true
}

// Recipients are masked by their kind wherever they are shown or logged.
func ExampleMaskRecipient() {
	fmt.Println(ports.MaskRecipient("+380931234585"))
	fmt.Println(ports.MaskRecipient("jane.doe@example.com"))
	fmt.Println(ports.MaskRecipient("12"))
	// Output:
	// +38093*****85
	// j***@e***.com
	// *****
}

package otp_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// steppingClock moves forward by step on every reading, so a benchmark that cycles
// through a set of recipients stays within the send limits: between two sends to one
// recipient at least len(recipients) readings pass.
type steppingClock struct {
	ticks atomic.Int64
	step  time.Duration
}

func (c *steppingClock) Now() time.Time {
	return start.Add(time.Duration(c.ticks.Add(1)) * c.step)
}

// benchRecipients is how many recipients a benchmark cycles through: with a 200 ms step,
// one recipient is sent to at most every 4096 × 200 ms ≈ 14 minutes.
const benchRecipients = 4096

func newBenchService(b *testing.B, clock ports.Clock) *otp.Service {
	b.Helper()
	svc, err := otp.NewService(otp.Deps{
		Store:   memory.NewOTPStore(),
		SMS:     discardSMS{},
		Limiter: memory.NewRateLimiter(),
		Clock:   clock,
	}, testConfig())
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

type discardSMS struct{}

func (discardSMS) SendSMS(context.Context, ports.Message) error { return nil }

func recipients(prefix string) []string {
	out := make([]string, benchRecipients)
	for i := range out {
		out[i] = fmt.Sprintf("+38%s%07d", prefix, i)
	}
	return out
}

// BenchmarkIssue measures issuing and sending one code: send limits, generation, HMAC,
// storage (superseding the older code of the subject) and delivery.
func BenchmarkIssue(b *testing.B) {
	svc := newBenchService(b, &steppingClock{step: 200 * time.Millisecond})
	to := recipients("093")
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := to[i%benchRecipients]
		if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: r, Recipient: r}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIssueParallel is BenchmarkIssue from GOMAXPROCS goroutines, each with its own
// recipients.
func BenchmarkIssueParallel(b *testing.B) {
	svc := newBenchService(b, &steppingClock{step: 200 * time.Millisecond})
	ctx := context.Background()
	var worker atomic.Int32
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		to := recipients(fmt.Sprintf("%03d", worker.Add(1)))
		for i := 0; pb.Next(); i++ {
			r := to[i%benchRecipients]
			if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: r, Recipient: r}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

type pending struct{ subject, code string }

// verifyChunk is how many codes the verify benchmarks issue between two measured runs:
// the store then holds about as many live codes as a busy host does, rather than b.N.
const verifyChunk = 8192

// benchVerify measures verifying right codes with the given number of goroutines. Codes
// are issued outside the measured time, verifyChunk at a time; between chunks the clock
// moves past the TTL so that earlier codes expire and are purged.
func benchVerify(b *testing.B, workers int) {
	clock := memory.NewClock(start)
	svc := newBenchService(b, clock)
	ctx := context.Background()
	codes := make([]pending, verifyChunk)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += verifyChunk {
		b.StopTimer()
		clock.Advance(11 * time.Minute)
		n := min(verifyChunk, b.N-done)
		for i := range n {
			subject := fmt.Sprintf("subject-%d", done+i)
			iss, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: subject})
			if err != nil {
				b.Fatal(err)
			}
			codes[i] = pending{subject, iss.Code}
		}
		b.StartTimer()
		// Worker w takes codes w, w+workers, ...: no shared counter between them.
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					c := codes[i]
					if _, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: c.subject, Code: c.code}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}

// BenchmarkVerify measures verifying a right code: the failure-budget check, the atomic
// compare-and-consume in the store, and the HMAC.
func BenchmarkVerify(b *testing.B) { benchVerify(b, 1) }

// BenchmarkVerifyParallel is BenchmarkVerify from GOMAXPROCS goroutines.
func BenchmarkVerifyParallel(b *testing.B) { benchVerify(b, runtime.GOMAXPROCS(0)) }

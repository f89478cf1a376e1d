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

// benchConfig is the config of the benchmarks: the defaults without the pumping guard. The
// benchmarks send thousands of codes a minute to one prefix of one calling code and verify
// few of them: the guard's default budgets and conversion watch would refuse them, as
// they should refuse such traffic. BenchmarkIssueControls measures the guard.
func benchConfig() otp.Config {
	cfg := testConfig()
	cfg.Pumping = otp.PumpingGuard{}
	return cfg
}

func newBenchService(b *testing.B, clock ports.Clock) *otp.Service {
	b.Helper()
	svc, err := otp.NewService(otp.Deps{
		Store:   memory.NewOTPStore(),
		SMS:     memory.DiscardSender{},
		Limiter: memory.NewRateLimiter(),
		Clock:   clock,
	}, benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

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
		// Ukrainian mobile operator codes: recipients of their own for each worker.
		ops := []string{"093", "067", "050", "063", "066", "068", "073", "095", "096", "097", "098", "099"}
		to := recipients(ops[int(worker.Add(1))%len(ops)])
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
	benchVerifyOn(b, newBenchService(b, clock), clock, workers, "")
}

// benchVerifyOn is benchVerify on svc, whose clock is clock, with codes sent to the
// recipients of prefix (recipients), or to none when prefix is "".
func benchVerifyOn(b *testing.B, svc *otp.Service, clock *memory.Clock, workers int, prefix string) {
	var to []string
	if prefix != "" {
		to = recipients(prefix)
	}
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
			req := otp.IssueRequest{Purpose: "login", Subject: subject}
			if to != nil {
				req.Recipient = to[i%benchRecipients]
			}
			iss, err := svc.IssueExternal(ctx, req)
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

// BenchmarkVerify measures verifying a right code: one atomic Update of the subject's
// Verification in the store, deciding the failure budget and consuming the code (HMAC
// included) under the same lock.
func BenchmarkVerify(b *testing.B) { benchVerify(b, 1) }

// BenchmarkVerifyParallel is BenchmarkVerify from GOMAXPROCS goroutines.
func BenchmarkVerifyParallel(b *testing.B) { benchVerify(b, runtime.GOMAXPROCS(0)) }

// BenchmarkIssueFloor is the floor of BenchmarkIssue: what a flow whose code lives in its
// own record pays around its record's write — Draw (send limits, generation, HMAC), Put
// into a Verification it holds, and Send — with no OTPStore.
func BenchmarkIssueFloor(b *testing.B) {
	svc := newBenchService(b, &steppingClock{step: 200 * time.Millisecond})
	to := recipients("093")
	ctx := context.Background()
	vs := make([]ports.Verification, benchRecipients)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := to[i%benchRecipients]
		d, err := svc.Draw(ctx, otp.IssueRequest{Purpose: "login", Subject: r, Recipient: r})
		if err != nil {
			b.Fatal(err)
		}
		svc.Put(&vs[i%benchRecipients], d)
		if err := svc.Send(ctx, d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyFloor is the floor of BenchmarkVerify: Check of a right code on a
// Verification the caller holds (the budget decision, the HMAC, the state change), with no
// store. Codes are drawn outside the measured time.
func BenchmarkVerifyFloor(b *testing.B) {
	svc := newBenchService(b, memory.NewClock(start))
	ctx := context.Background()
	vs := make([]ports.Verification, verifyChunk)
	codes := make([]string, verifyChunk)
	now := start.Add(time.Minute)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += verifyChunk {
		b.StopTimer()
		n := min(verifyChunk, b.N-done)
		for i := range n {
			d, err := svc.DrawExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: fmt.Sprintf("subject-%d", done+i)})
			if err != nil {
				b.Fatal(err)
			}
			vs[i] = ports.Verification{}
			svc.Put(&vs[i], d)
			codes[i] = d.Code()
		}
		b.StartTimer()
		for i := range n {
			if _, err := svc.Check(&vs[i], codes[i], now); err != nil {
				b.Fatal(err)
			}
		}
	}
}

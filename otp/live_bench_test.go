package otp_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
)

// liveSizes are the numbers of live codes the live benchmarks hold in the store.
var liveSizes = []struct {
	name string
	n    int
}{{"10k", 10_000}, {"1M", 1_000_000}}

// liveCycle is how much the clock moves while a live benchmark goes once through its
// subjects: more than the default send limits need between two sends to one recipient
// (30 s apart, 5 per 10 minutes), so that they never refuse.
const liveCycle = 121 * time.Second

// newLiveService is a service on the memory adapters whose codes live 48 hours, so that
// none expires while a benchmark runs: the store holds every code issued.
func newLiveService(b *testing.B, clock *memory.Clock) *otp.Service {
	b.Helper()
	cfg := benchConfig()
	cfg.TTL = 48 * time.Hour
	svc, err := otp.NewService(otp.Deps{
		Store: memory.NewOTPStore(), SMS: memory.DiscardSender{}, Limiter: memory.NewRateLimiter(), Clock: clock,
	}, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return svc
}

func livePhone(i int) string { return fmt.Sprintf("+38093%07d", i) }

// BenchmarkIssueLive measures Issue (send limits, code, HMAC, the store's write that
// supersedes the subject's code, delivery to a discarding sender) with 10k and with 1M live
// codes, and as many send-limit keys, in the memory store: the store's cost must not grow
// with what it holds. Each operation issues a new code to one of the subjects, in turn
// (both sizes cycle through more recipients than the engine's phone cache holds, so both
// parse every number). The garbage of the setup is collected before the loop; beside ns/op
// it reports the CPU time of the whole process per issue (cpu-ns/op), the collector's work
// on the live codes included.
func BenchmarkIssueLive(b *testing.B) {
	for _, size := range liveSizes {
		b.Run(size.name, func(b *testing.B) {
			clock := memory.NewClock(start)
			svc := newLiveService(b, clock)
			ctx := context.Background()
			step := liveCycle / time.Duration(size.n)
			phones := make([]string, size.n)
			for i := range phones {
				phones[i] = livePhone(i)
				clock.Advance(step)
				if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: phones[i], Recipient: phones[i]}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC() // the setup's garbage is not the loop's
			b.ReportAllocs()
			cpu := startCPUMeter()
			i := 0
			for b.Loop() {
				clock.Advance(step)
				p := phones[i%size.n]
				if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: p, Recipient: p}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			cpu.report(b, i)
		})
	}
}

// BenchmarkVerifyLive measures Verify of a right code with 10k and with 1M live codes in
// the memory store. Codes are issued outside the measured time; once every subject's code
// is used, each gets a new one (off the clock too).
func BenchmarkVerifyLive(b *testing.B) {
	for _, size := range liveSizes {
		b.Run(size.name, func(b *testing.B) {
			clock := memory.NewClock(start)
			svc := newLiveService(b, clock)
			ctx := context.Background()
			subjects := make([]string, size.n)
			for i := range subjects {
				subjects[i] = fmt.Sprintf("subject-%d", i)
			}
			codes := make([]string, size.n)
			refill := func() {
				clock.Advance(liveCycle) // the send limits of each subject allow a new code
				for i, s := range subjects {
					iss, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "login", Subject: s})
					if err != nil {
						b.Fatal(err)
					}
					codes[i] = iss.Code
				}
			}
			refill()
			runtime.GC() // the setup's garbage is not the loop's
			b.ReportAllocs()
			cpu := startCPUMeter()
			i, ops := 0, 0
			for b.Loop() {
				if i == size.n {
					cpu.stop(b)
					refill()
					i = 0
					cpu.resume(b)
				}
				if _, err := svc.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: subjects[i], Code: codes[i]}); err != nil {
					b.Fatal(err)
				}
				i++
				ops++
			}
			cpu.report(b, ops)
		})
	}
}

package otp_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// heapMiB is the live heap after two collections, in MiB.
func heapMiB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// heapCodes is how many codes BenchmarkHeapAfterSweeps issues per operation, after a
// warm-up round of heapWarmUp codes.
const (
	heapCodes  = 1_000_000
	heapWarmUp = 10_000
)

// BenchmarkHeapAfterSweeps issues 1M codes with send limits (1M recipients: as many
// limiter keys) on the memory adapters, moves the clock past the codes' expiry and the
// limiter's retention, runs every sweep a host runs for them (otp.Service.Sweep and
// memory.RateLimiter.PurgeStale, in batches until they find nothing), and reports the live
// heap before (start-MiB: after a warm-up round of 10,000 codes, swept the same way, has
// filled the engine's fixed-size caches; cold-MiB is before it), with the codes (full-MiB)
// and after (after-MiB), and after/start. It is a benchmark, not a test with a threshold: the figures depend on the
// runtime and the machine, and a threshold would flake. Run it with -benchtime 1x.
func BenchmarkHeapAfterSweeps(b *testing.B) {
	ctx := context.Background()
	var coldMiB, startMiB, fullMiB, afterMiB float64
	for b.Loop() {
		b.StopTimer()
		clock := memory.NewClock(start)
		limiter := memory.NewRateLimiter()
		svc, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), SMS: memory.DiscardSender{}, Limiter: limiter, Clock: clock}, benchConfig())
		if err != nil {
			b.Fatal(err)
		}
		// The fixed-size parts of the engine fill on first use: the phone cache (at most
		// 4,096 numbers) and the numbering plans' compiled patterns. A warm-up round fills
		// them, and is swept like the real round, so that start is the heap of an engine in
		// steady state holding no codes (coldMiB is before the warm-up).
		coldMiB = heapMiB()
		for i := range heapWarmUp {
			p := livePhone(heapCodes + i)
			if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: p, Recipient: p}); err != nil {
				b.Fatal(err)
			}
		}
		clock.Advance(ports.DefaultRateRetention + time.Hour)
		sweep(b, func() (int, error) { return svc.Sweep(ctx, 10_000) })
		sweep(b, func() (int, error) { return limiter.PurgeStale(ctx, clock.Now(), 10_000) })
		startMiB = heapMiB()
		b.StartTimer()
		for i := range heapCodes {
			clock.Advance(time.Microsecond)
			p := livePhone(i)
			if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: p, Recipient: p}); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		fullMiB = heapMiB()
		b.StartTimer()
		clock.Advance(ports.DefaultRateRetention + time.Hour) // past the TTL and the limiter's retention
		sweep(b, func() (int, error) { return svc.Sweep(ctx, 10_000) })
		sweep(b, func() (int, error) { return limiter.PurgeStale(ctx, clock.Now(), 10_000) })
		b.StopTimer()
		afterMiB = heapMiB()
		if l := limiter.Len(); l != 0 {
			b.Fatalf("%d limiter keys left after the sweeps", l)
		}
		runtime.KeepAlive(svc)
		b.StartTimer()
	}
	b.ReportMetric(coldMiB, "cold-MiB")
	b.ReportMetric(startMiB, "start-MiB")
	b.ReportMetric(fullMiB, "full-MiB")
	b.ReportMetric(afterMiB, "after-MiB")
	b.ReportMetric(afterMiB/startMiB, "after/start")
}

// sweep calls batch until it deletes nothing.
func sweep(b *testing.B, batch func() (int, error)) {
	b.Helper()
	for {
		n, err := batch()
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/verifykit/verifykit/adapters/redis"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// benchParallelism makes RunParallel use 2×GOMAXPROCS goroutines, as the PostgreSQL
// benchmarks do: 4 on a 2-core machine.
const benchParallelism = 2

var benchSubjects atomic.Int64

func benchSubject() string { return strconv.FormatInt(benchSubjects.Add(1), 10) }

// noPumpingGuard switches the pumping guard off: the benchmarks send thousands of codes to
// one prefix and verify few of them, which its default budgets and conversion watch refuse.
func noPumpingGuard(c *otp.Config) { c.Pumping = otp.PumpingGuard{} }

// benchPhone is a valid mobile number of its own for the benchmark subject s (a number).
func benchPhone(s string) string {
	n, _ := strconv.Atoi(s)
	return fmt.Sprintf("+38093%07d", n%10_000_000)
}

// forEachBenchTarget runs f against each deployment whose variable is set.
func forEachBenchTarget(b *testing.B, f func(b *testing.B, svc *otp.Service)) {
	for _, tg := range targets {
		b.Run(tg.name, func(b *testing.B) {
			need(b, tg.env)
			db := newDB(b, tg.client(b), redis.Options{})
			f(b, newEngine(b, db, ports.SystemClock{}, nil, noPumpingGuard))
		})
	}
}

// BenchmarkRedisIssue issues codes through the otp engine on Redis: the send-limit record
// (Allow: one script) and the code stored in its Verification (Update: a read and one
// compare-and-set script). Delivery is a no-op.
func BenchmarkRedisIssue(b *testing.B) {
	ctx := context.Background()
	send := func(context.Context, ports.Message) error { return nil }
	forEachBenchTarget(b, func(b *testing.B, svc *otp.Service) {
		benchBoth(b, func(int) error {
			s := benchSubject()
			_, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "bench", Subject: s, Recipient: benchPhone(s), Send: send})
			return err
		})
	})
}

// BenchmarkRedisVerify verifies codes (the right one, each once) through the otp engine on
// Redis: one Update of the Verification (a read and one compare-and-set script). The codes
// are issued before the timer starts.
func BenchmarkRedisVerify(b *testing.B) {
	ctx := context.Background()
	forEachBenchTarget(b, func(b *testing.B, svc *otp.Service) {
		var reqs []otp.VerifyRequest
		prepare := func(b *testing.B) {
			reqs = make([]otp.VerifyRequest, b.N)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for w := range 4 {
				wg.Go(func() {
					for i := w; i < b.N; i += 4 {
						s := benchSubject()
						issued, err := svc.IssueExternal(ctx, otp.IssueRequest{Purpose: "bench", Subject: s})
						if err != nil {
							errs[w] = err
							return
						}
						reqs[i] = otp.VerifyRequest{Purpose: "bench", Subject: s, Code: issued.Code}
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
		}
		benchBoth(b, func(i int) error {
			_, err := svc.Verify(ctx, reqs[i])
			return err
		}, prepare)
	})
}

// benchBoth runs op(0..b.N-1) as the sub-benchmarks "serial" and "parallel", after the
// optional setup (which must reset the timer).
func benchBoth(b *testing.B, op func(i int) error, setup ...func(*testing.B)) {
	b.Run("serial", func(b *testing.B) {
		for _, f := range setup {
			f(b)
		}
		b.ReportAllocs()
		for i := range b.N {
			if err := op(i); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		for _, f := range setup {
			f(b)
		}
		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(int(next.Add(1) - 1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

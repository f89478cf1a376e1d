package postgres_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/ports"
)

// benchParallelism makes RunParallel use 2×GOMAXPROCS goroutines: 4 on a 2-core machine,
// like `pgbench -c 4`, and as many as the pool has connections by default.
const benchParallelism = 2

// subjects numbers the subjects (and recipients) of the benchmarks, so none is used twice.
var subjects atomic.Int64

func nextSubject() string { return strconv.FormatInt(subjects.Add(1), 10) }

// BenchmarkPostgresIssue issues codes through the otp engine on PostgreSQL: a send-limit check
// (Allow: two round trips, one commit) and CreateCode (one round trip, one commit). Delivery
// is a no-op.
func BenchmarkPostgresIssue(b *testing.B) {
	ctx := context.Background()
	svc := newOTP(b, pgtest.New(b), ports.SystemClock{}, nil)
	send := func(context.Context, ports.Message) error { return nil }
	issue := func() error {
		s := nextSubject()
		_, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "bench", Subject: s, Recipient: "+38093" + s, Send: send})
		return err
	}
	runBoth(b, func(int) error { return issue() })
}

// BenchmarkPostgresVerify verifies codes (the right one, each once) through the otp engine on
// PostgreSQL: a failure-limit Peek (one round trip) and VerifyLatest (two round trips, one
// commit). The codes are issued before the timer starts.
func BenchmarkPostgresVerify(b *testing.B) {
	ctx := context.Background()
	svc := newOTP(b, pgtest.New(b), ports.SystemClock{}, nil)
	var reqs []otp.VerifyRequest
	prepare := func(b *testing.B) {
		reqs = make([]otp.VerifyRequest, b.N)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < b.N; i += 4 {
					s := nextSubject()
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
	runBoth(b, func(i int) error {
		_, err := svc.Verify(ctx, reqs[i])
		return err
	}, prepare)
}

// runBoth runs op(0..b.N-1) as the sub-benchmarks "serial" and "parallel", after the optional
// setup (which must reset the timer).
func runBoth(b *testing.B, op func(i int) error, setup ...func(*testing.B)) {
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

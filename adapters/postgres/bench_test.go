package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
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
	svc := newOTP(b, pgtest.New(b), ports.SystemClock{}, nil, nil)
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
	svc := newOTP(b, pgtest.New(b), ports.SystemClock{}, nil, nil)
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

// discardSMS delivers nothing: the benchmarks measure the flow, not an outbox.
type discardSMS struct{}

func (discardSMS) SendSMS(context.Context, ports.Message) error { return nil }

// BenchmarkPostgresResendAuthMethod resends the code of person requests through the real
// personrequest service on PostgreSQL, with the otp engine's default send limits in force:
// the token check, a read of the request, three upload URLs, two atomic updates of the
// request (two round trips each), a send-limit check (two round trips) and a new code stored
// (one round trip); delivery is a no-op. It cycles over 1024 requests with distinct phones
// created before the timer starts, and the clock moves one second per resend, so no limit
// is hit (as in personrequest.BenchmarkResendAuthMethod on the memory adapters).
func BenchmarkPostgresResendAuthMethod(b *testing.B) {
	const n = 1024
	ctx := context.Background()
	clock := memory.NewClock(start)
	svc := newPersonRequests(b, pgtest.New(b), clock, discardSMS{}, nil)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newPersonRequest(b, svc, fmt.Sprintf("+38093%07d", i)).ID
	}
	clock.Advance(time.Hour)
	var resends atomic.Int64 // across every round of both sub-benchmarks, so no phone is resent too soon
	runBoth(b, func(int) error {
		clock.Advance(time.Second)
		_, err := svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: prToken, ID: ids[(resends.Add(1)-1)%n]})
		return err
	})
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

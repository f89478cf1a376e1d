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

// benchOTP sets up the engine of the benchmarks: no pumping guard and no cap on subjects
// per phone, since they send thousands of codes to one prefix and verify few of them.
func benchOTP(c *otp.Config) {
	c.Pumping = otp.PumpingGuard{}
	c.MaxSubjectsPerRecipient = 0
}

// benchPhone is a valid mobile number of its own for the benchmark subject s (a number).
func benchPhone(s string) string {
	n, _ := strconv.Atoi(s)
	return fmt.Sprintf("+38093%07d", n%10_000_000)
}

// BenchmarkPostgresIssue issues codes through the otp engine on PostgreSQL: the send-limit
// record (Allow: one write transaction) and the code stored in its Verification (Update: one
// write transaction, two round trips). Delivery is a no-op.
func BenchmarkPostgresIssue(b *testing.B) {
	ctx := context.Background()
	svc := newOTP(b, pgtest.New(b), ports.SystemClock{}, nil, benchOTP)
	send := func(context.Context, ports.Message) error { return nil }
	issue := func() error {
		s := nextSubject()
		_, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "bench", Subject: s, Recipient: benchPhone(s), Send: send})
		return err
	}
	runBoth(b, func(int) error { return issue() })
}

// BenchmarkPostgresIssueControls is BenchmarkPostgresIssue (serial) with every abuse control
// off, and on: regions, number types, the calling-code budgets, the conversion watch
// (sampling, never pausing), the recipient's failure budget and the subjects cap, which
// the engine decides with the send limits in one batch of the limiter (one transaction).
// Every setting is spelled out, so the same file measures older trees too.
func BenchmarkPostgresIssueControls(b *testing.B) {
	ctx := context.Background()
	send := func(context.Context, ports.Message) error { return nil }
	for _, bc := range []struct {
		name string
		edit func(*otp.Config)
	}{
		{"off", func(c *otp.Config) {
			c.Phones, c.Pumping = otp.PhoneRules{}, otp.PumpingGuard{}
			c.RecipientFailureLimit, c.MaxSubjectsPerRecipient = ports.RateLimit{}, 0
		}},
		{"on", func(c *otp.Config) {
			c.Phones = otp.PhoneRules{AllowedRegions: []string{"UA", "ES", "PL"}, RefusedTypes: otp.DefaultRefusedTypes()}
			c.Pumping = otp.PumpingGuard{
				CallingCodeLimits: []ports.RateLimit{{Max: 1 << 30, Per: time.Hour}, {Max: 1 << 30, Per: 24 * time.Hour}},
				PrefixDigits:      6, MinSends: 100, Window: time.Hour, CoolDown: time.Hour, // samples, never pauses
			}
			c.RecipientFailureLimit, c.MaxSubjectsPerRecipient = ports.RateLimit{Max: 100, Per: 24 * time.Hour}, 3
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			svc := newOTP(b, pgtest.New(b), ports.SystemClock{}, nil, bc.edit)
			b.ReportAllocs()
			for b.Loop() {
				n := controlsSubjects.Add(1)
				s := strconv.FormatInt(n, 10)
				to := fmt.Sprintf("+38093%07d", n%10_000_000)
				if _, err := svc.Issue(ctx, otp.IssueRequest{Purpose: "bench", Subject: s, Recipient: to, Send: send}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// controlsSubjects numbers the subjects and phones of BenchmarkPostgresIssueControls.
var controlsSubjects atomic.Int64

// BenchmarkPostgresVerify verifies codes (the right one, each once) through the otp engine on
// PostgreSQL: one Update of the Verification (two round trips, one commit), the failure
// budget decided in it. The codes are issued before the timer starts.
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

// BenchmarkPostgresResendAuthMethod resends the code of person requests through the real
// personrequest service on PostgreSQL, with the otp engine's default send limits in force:
// the token check, a read of the request, the send-limit record (one write transaction),
// three upload URLs, and one atomic Update of the request with its new code, URLs and
// current method (one write transaction, two round trips); delivery is a no-op. It cycles over 1024 requests with distinct phones
// created before the timer starts, and the clock moves one second per resend, so no limit
// is hit (as in personrequest.BenchmarkResendAuthMethod on the memory adapters).
func BenchmarkPostgresResendAuthMethod(b *testing.B) {
	const n = 1024
	ctx := context.Background()
	clock := memory.NewClock(start)
	svc := newPersonRequests(b, pgtest.New(b), clock, memory.DiscardSender{}, benchOTP)
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

// BenchmarkPostgresApprove approves person requests with their code through the real
// personrequest service on PostgreSQL: the token check and one atomic Update of the request
// that consumes the code and stores APPROVED (one write transaction, two round trips). The
// requests are created before the timer starts, their codes read from the outbox.
func BenchmarkPostgresApprove(b *testing.B) {
	ctx := context.Background()
	clock := memory.NewClock(start)
	sms := memory.NewSMSOutbox()
	svc := newPersonRequests(b, pgtest.New(b), clock, sms, func(c *otp.Config) { benchOTP(c); c.SendLimits = nil })
	type approval struct{ id, code string }
	var todo []approval
	prepare := func(b *testing.B) {
		todo = make([]approval, b.N)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				for i := w; i < b.N; i += 4 {
					phone := "+38093" + fmt.Sprintf("%07d", subjects.Add(1)%10_000_000)
					r := newPersonRequest(b, svc, phone)
					msg, _ := sms.Last(phone)
					todo[i] = approval{r.ID, codeIn(msg.Body)}
				}
			})
		}
		wg.Wait()
		b.ResetTimer()
	}
	runBoth(b, func(i int) error {
		_, err := svc.Approve(ctx, personrequest.ApproveRequest{Token: prToken, ID: todo[i].id, Code: todo[i].code})
		return err
	}, prepare)
}

// codeIn returns the first run of 4 to 10 digits in body: the code of an SMS.
func codeIn(body string) string {
	start := -1
	for i := 0; i <= len(body); i++ {
		digit := i < len(body) && body[i] >= '0' && body[i] <= '9'
		switch {
		case digit && start < 0:
			start = i
		case !digit && start >= 0:
			if n := i - start; n >= 4 && n <= 10 {
				return body[start:i]
			}
			start = -1
		}
	}
	return ""
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

package authmethod_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verifykit/verifykit/authmethod"
)

// BenchmarkDeactivate deactivates one THIRD_PERSON method per iteration on the memory
// adapters, each of a different person with two methods (so the primary moves):
//   - self: an adult acts for themselves (age rules and one confidant lookup);
//   - confidant: a verified mother acts for her child (relationship and applicant lookup);
//   - parallel: self, from GOMAXPROCS goroutines.
func BenchmarkDeactivate(b *testing.B) {
	ctx := context.Background()
	setup := func(b *testing.B, confidant bool) (*fixture, []authmethod.DeactivateRequest) {
		b.Helper()
		f := newFixture(b)
		reqs := make([]authmethod.DeactivateRequest, b.N)
		if confidant {
			f.addPerson(b, "mother", date(1990, 1, 1))
		}
		for i := range reqs {
			id := "p" + strconv.Itoa(i)
			f.addPerson(b, id, date(2000, 1, 1))
			f.addMethod(b, id, id+"-otp", authmethod.TypeOTP, 48*time.Hour)
			f.addMethod(b, id, id+"-tp", authmethod.TypeThirdPerson, 24*time.Hour, primary)
			if confidant {
				f.addRelationship(b, "r"+id, id, "mother")
				reqs[i] = authmethod.DeactivateRequest{Token: "token-mother", PersonID: id, MethodID: id + "-tp"}
			} else {
				reqs[i] = authmethod.DeactivateRequest{Token: f.token(b, id), MethodID: id + "-tp"}
			}
		}
		if confidant {
			f.token(b, "mother")
		}
		return f, reqs
	}
	run := func(b *testing.B, confidant bool) {
		f, reqs := setup(b, confidant)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range reqs {
			if _, err := f.svc.Deactivate(ctx, reqs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("self", func(b *testing.B) { run(b, false) })
	b.Run("confidant", func(b *testing.B) { run(b, true) })
	b.Run("parallel", func(b *testing.B) {
		f, reqs := setup(b, false)
		var next atomic.Int64
		var failed atomic.Bool
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := next.Add(1) - 1
				if _, err := f.svc.Deactivate(ctx, reqs[i]); err != nil {
					failed.Store(true)
				}
			}
		})
		if failed.Load() {
			b.Fatal("a deactivation failed")
		}
	})
}

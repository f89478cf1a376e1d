package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres/pgtest"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// noOutbox is a PersonRequestStore that drops the events of every write before the store
// sees them: the resend without its outbox inserts, for the benchmark's "without" side.
type noOutbox struct{ ports.PersonRequestStore }

func (s noOutbox) Update(ctx context.Context, id string, fn func(*ports.PersonRequest) error) (ports.PersonRequest, error) {
	return s.PersonRequestStore.Update(ctx, id, func(r *ports.PersonRequest) error {
		err := fn(r)
		r.Outbox = nil
		return err
	})
}

// BenchmarkPostgresResendAuthMethodOutbox is BenchmarkPostgresResendAuthMethod with and
// without the outbox, in one run: "with" is the flow as shipped (the resend stores its
// code.issued and code_resent events in the outbox, in the request's transaction: two more
// INSERTs in the commit's round trip); "without" drops the events before the store.
func BenchmarkPostgresResendAuthMethodOutbox(b *testing.B) {
	const n = 1024
	ctx := context.Background()
	clock := memory.NewClock(start)
	db := pgtest.New(b)
	tokens := memory.NewTokens()
	tokens.Add(prToken, ports.Claims{Subject: "operator", Scopes: []string{personrequest.ScopeWrite, personrequest.ScopeRead},
		ExpiresAt: start.Add(10 * 365 * 24 * time.Hour)})
	codes := newOTP(b, db, clock, memory.DiscardSender{}, benchOTP)
	services := map[string]*personrequest.Service{}
	for name, store := range map[string]ports.PersonRequestStore{"with_outbox": db.PersonRequestStore(), "without_outbox": noOutbox{db.PersonRequestStore()}} {
		svc, err := personrequest.NewService(personrequest.Deps{Store: store, OTP: codes, Tokens: tokens,
			Uploads: memory.NewUploadSigner(), Clock: clock}, personrequest.DefaultConfig())
		require.NoError(b, err)
		services[name] = svc
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newPersonRequest(b, services["with_outbox"], fmt.Sprintf("+38093%07d", i)).ID
	}
	clock.Advance(time.Hour)
	var resends atomic.Int64
	for _, name := range []string{"with_outbox", "without_outbox"} {
		svc := services[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				clock.Advance(time.Second)
				if _, err := svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: prToken, ID: ids[(resends.Add(1)-1)%n]}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

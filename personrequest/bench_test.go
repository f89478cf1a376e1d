package personrequest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// BenchmarkResendAuthMethod measures one resend (token, store read, three upload URLs, two
// atomic request updates, a new code stored and "sent") on the memory adapters, with the
// otp engine's default send limits in force: it cycles over 1024 requests with distinct
// phones while the clock moves one second per resend, so no limit is hit.
func BenchmarkResendAuthMethod(b *testing.B) {
	const n = 1024
	clock := memory.NewClock(start)
	engine := memory.NewTestEngine(b, otp.Deps{SMS: memory.DiscardSender{}, Clock: clock}, func(c *otp.Config) {
		c.Pumping = otp.PumpingGuard{} // thousands of codes to one prefix, none verified
	})
	tokens := memory.NewTokens()
	tokens.Add(tokWriter, ports.Claims{Scopes: []string{personrequest.ScopeWrite}, ExpiresAt: start.Add(10 * 365 * 24 * time.Hour)})
	svc, err := personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: engine, Tokens: tokens, Uploads: memory.NewUploadSigner(), Clock: clock,
	}, personrequest.DefaultConfig())
	require.NoError(b, err)
	ctx := context.Background()
	ids := make([]string, n)
	for i := range ids {
		p := person()
		p.AuthMethods[0].Phone = fmt.Sprintf("+38093%07d", i)
		r, err := svc.Create(ctx, personrequest.CreateRequest{Token: tokWriter, Person: p, ThirdPerson: thirdPerson()})
		require.NoError(b, err)
		ids[i] = r.ID
	}
	clock.Advance(time.Hour)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		clock.Advance(time.Second)
		if _, err := svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: tokWriter, ID: ids[i%n]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

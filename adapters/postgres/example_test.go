package postgres_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/adapters/postgres"
	"github.com/verifykit/verifykit/otp"
)

// A host opens and owns the pool, migrates the adapter's schema at start-up (safe from
// every instance at once), and hands the stores to the domain services. (This example
// needs a database, so it is compiled but not run by go test.)
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()

	opts := postgres.Options{Schema: "verifykit"}
	if err := postgres.Migrate(ctx, pool, opts); err != nil {
		log.Fatal(err) // e.g. a migration file edited after it was applied
	}
	db, err := postgres.New(pool, opts)
	if err != nil {
		log.Fatal(err)
	}

	cfg := otp.DefaultConfig()
	cfg.Secrets = [][]byte{[]byte(os.Getenv("VERIFYKIT_OTP_SECRET"))}
	codes, err := otp.NewService(otp.Deps{
		Store:   db.OTPStore(),
		Limiter: db.RateLimiter(), // limits shared by every instance on this database
		SMS:     memory.NewSMSOutbox(),
	}, cfg)
	if err != nil {
		log.Fatal(err)
	}
	issued, err := codes.Issue(ctx, otp.IssueRequest{Purpose: "login", Subject: "user-42", Recipient: "+380931234585"})
	fmt.Println(issued.ExpiresAt, err)
}

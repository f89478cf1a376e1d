// Package verifykit is an embeddable SDK for identity re-verification: the flows that make a
// person prove, again, who they are.
//
// # The flows
//
//   - identification: reset a user's identification and name the profile fields the user must
//     update before being identified again (KYC).
//   - identification/otpprocess: OTP identification processes that an organisation opens
//     for an actor, who validates a one-time code plus a second factor.
//   - personrequest: a change to a person's record is confirmed with a one-time code sent by
//     SMS; the code (or a third person's code) can be resent, invalidating older codes and
//     upload links.
//   - authmethod: deactivate an authentication method, under token, scope, age,
//     legal-capacity and confidant-person rules.
//   - otp: the one-time-code engine the flows share: codes from crypto/rand, stored only as
//     keyed hashes, compared in constant time, used at most once, with attempt and send
//     limits and SMS delivery retried with backoff.
//
// # Ports and adapters
//
// The business rules live in the domain packages above and depend only on the small
// interfaces of package ports: storage, SMS, token verification, upload-URL signing, rate
// limiting and the clock. Hosts implement the ports or take the ready adapters: in-memory
// (adapters/memory, zero set-up, also a test kit), PostgreSQL (adapters/postgres, durable and
// safe across many instances) and HTTP (adapters/httpapi, the REST routes of the original
// APIs).
//
// # Errors
//
// Every package returns *Error, whose Kind says what class of failure it is. Match kinds
// with errors.Is against the sentinels (ErrNotFound, ErrConflict, ...), or read the kind
// with KindOf; Error.Invalid lists the offending inputs.
//
// # A sketch
//
//	clock := memory.NewClock(time.Now())
//	sms := memory.NewSMSOutbox()
//	codes, err := otp.NewService(otp.Deps{
//		Store:   memory.NewOTPStore(),
//		SMS:     sms,
//		Limiter: memory.NewRateLimiter(),
//		Clock:   clock,
//	}, cfg) // cfg := otp.DefaultConfig(); cfg.Secrets = [][]byte{secret}
//	if err != nil {
//		return err
//	}
//	issued, err := codes.Issue(ctx, otp.IssueRequest{
//		Purpose: "login", Subject: "user-42", Recipient: "+380931234585",
//	})
//	// ... the person reads the SMS and types the code ...
//	_, err = codes.Verify(ctx, otp.VerifyRequest{Purpose: "login", Subject: "user-42", Code: typed})
//	if errors.Is(err, verifykit.ErrInvalidInput) { /* wrong, expired or used-up code */ }
package verifykit

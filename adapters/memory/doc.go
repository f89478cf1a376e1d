// Package memory provides in-memory adapters for every port of verifykit: stores, a rate
// limiter, outboxes for SMS, e-mail and WhatsApp, a clock that tests can move, a static
// token table and an upload signer.
//
// They make every flow run with zero set-up, and double as a test kit: a host's own tests
// can read the last message sent to a number, inject delivery failures and move time,
// without mocks of their own. NewTestKit puts them together the way verifykit's own tests
// do — an OTP engine with a test secret and fast delivery retries (TestOTPConfig,
// NewTestEngine), the outboxes, the clock, a token table (TestKit.AddToken), a log capture
// (LogBuffer) and the code of the last SMS (TestKit.LastSMSCode) — and DiscardSender
// delivers nothing for benchmarks. Everything here is safe for concurrent use. Nothing
// survives a restart: use adapters/postgres for durable storage shared by many instances.
//
// Besides the ports, the stores have the writes the flows never make, for tests and demos:
// PersonStore.CreatePerson, AuthMethodStore.AddAuthMethod, ProfileStore.Create, ...
//
// Files are named by what they hold: one store each (otpstore.go, personrequest.go,
// process.go, profile.go, person.go, authmethod.go, confidant.go, ratelimit.go), the event
// outbox (outbox.go), the message outboxes (messages.go), uploads.go, tokens.go, clock.go,
// and the test kit (testkit.go).
package memory

// Package memory provides in-memory adapters for every port of verifykit: stores, a rate
// limiter, an SMS outbox, a clock that tests can move, and a static token table.
//
// They make every flow run with zero set-up, and double as a test kit: a host's own tests
// can read the last SMS sent to a number, inject delivery failures and move time, without
// mocks of their own. Everything here is safe for concurrent use. Nothing survives a
// restart: use adapters/postgres for durable storage shared by many instances.
package memory

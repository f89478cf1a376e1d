// Package ports holds the interfaces the domain packages of verifykit need from the outside
// world — storage, message delivery, token verification, upload-URL signing, rate limiting
// and the clock — and the value types those interfaces exchange.
//
// Adapters implement these interfaces (see adapters/memory and adapters/postgres); the
// conformance suites in ports/porttest check that an adapter keeps every guarantee the
// domain relies on, including under concurrent use.
package ports

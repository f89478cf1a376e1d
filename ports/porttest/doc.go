// Package porttest holds conformance suites for the storage and limiter ports, in the
// style of testing/fstest: an adapter's own tests call, for example,
//
//	porttest.RunOTPStore(t, func(t *testing.T) ports.OTPStore { return newStore(t) })
//
// and every guarantee the domain relies on is checked against it, including under
// concurrent use. The memory and PostgreSQL adapters run the same suites, so they cannot
// drift apart.
package porttest

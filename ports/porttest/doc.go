// Package porttest holds conformance suites for the storage and limiter ports, in the
// style of testing/fstest and of Watermill's pubsub/tests: an adapter's own tests call, for
// example,
//
//	porttest.RunOTPStore(t, porttest.Features{}, func(t *testing.T) ports.OTPStore { return newStore(t) })
//
// and every guarantee the domain relies on is checked against it, including under
// concurrent use. The memory, PostgreSQL and Redis adapters run the same suites, so they
// cannot drift apart.
//
// Each suite is a table of named cases; RunX runs each as a sub-test of its name, on a
// fresh store from the factory, so a failing case reads by name
// (TestMyStore/ProcessStore/ListFiltersOrdersAndPages), and "go test -run" picks one.
// CaseNames lists them. Features declares the optional guarantees of the stores (methods
// beyond the port, such as ProcessDeleter, and how long the rate limiter's model test
// runs): the cases of a guarantee that is not set are skipped, naming the field they need.
package porttest

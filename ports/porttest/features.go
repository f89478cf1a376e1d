package porttest

import (
	"reflect"
	"testing"
)

// Features are the optional guarantees of the stores a suite checks, in the manner of
// Watermill's pubsub/tests: every Run* function takes them beside its factory, runs the
// cases of each guarantee that is set and skips the others, naming the field they need
// ("needs Features.ProcessDelete"). A case of a guarantee that is set fails when the store
// lacks the method it needs, so a declared guarantee is never skipped unseen. A suite
// ignores the fields it does not use, so a host can pass one Features value to all of them.
//
// The stores of a stores struct may be optional too: a nil OTPOutboxStores.Limiter,
// OutboxStores.PersonRequests or ProfileStores.Outbox skips what needs it (see those
// types).
type Features struct {
	// ProcessDelete: the ProcessStore has Delete (ProcessDeleter); RunProcessStore checks
	// it.
	ProcessDelete bool
	// PersonUpdate: the PersonStore has UpdatePerson (PersonUpdater); RunPersonStore
	// checks it.
	PersonUpdate bool
	// ConfidantUpdate: the ConfidantStore has UpdateConfidantRelationship
	// (ConfidantUpdater); RunConfidantStore checks it.
	ConfidantUpdate bool
	// ResetRequestOpen: the ResetRequestStore has Open (ResetRequestOpener);
	// RunResetRequestStore and RunProfileStore check it.
	ResetRequestOpen bool
	// ModelSequences is how many random call sequences the Model case of RunRateLimiter
	// compares with the brute-force model; DefaultModelSequences when < 1. The count is
	// fixed, never a time budget: an adapter whose calls are slow passes fewer, one that is
	// fast can pass more.
	ModelSequences int
}

// feature names the field of Features that a case needs.
type feature string

const (
	featureProcessDelete    feature = "ProcessDelete"
	featurePersonUpdate     feature = "PersonUpdate"
	featureConfidantUpdate  feature = "ConfidantUpdate"
	featureResetRequestOpen feature = "ResetRequestOpen"
)

// has reports whether f sets the guarantee n.
func (f Features) has(n feature) bool {
	switch n {
	case featureProcessDelete:
		return f.ProcessDelete
	case featurePersonUpdate:
		return f.PersonUpdate
	case featureConfidantUpdate:
		return f.ConfidantUpdate
	case featureResetRequestOpen:
		return f.ResetRequestOpen
	}
	return false
}

// suiteCase is one named case of a suite over the stores S that its factory returns.
type suiteCase[S any] struct {
	name string
	// needs is the optional guarantee the case checks; "": none, it always runs.
	needs feature
	// run checks the case on fresh stores.
	run func(t *testing.T, s S, f Features)
	// each, instead of run: the sub-cases, each on fresh stores of its own.
	each []suiteCase[S]
}

// runSuite runs each case as a sub-test of its name, on stores newStores returns for it.
func runSuite[S any](t *testing.T, f Features, newStores func(t *testing.T) S, cases []suiteCase[S]) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needs != "" && !f.has(c.needs) {
				t.Skipf("needs Features.%s", c.needs)
			}
			if c.each != nil {
				runSuite(t, f, newStores, c.each)
				return
			}
			c.run(t, newStores(t), f)
		})
	}
}

// caseNames returns the names of cases as a host's test output reads them, those of
// sub-cases after their case's and a slash.
func caseNames[S any](cases []suiteCase[S]) []string {
	var names []string
	for _, c := range cases {
		names = append(names, c.name)
		for _, sub := range caseNames(c.each) {
			names = append(names, c.name+"/"+sub)
		}
	}
	return names
}

// CaseNames returns the names of every suite's cases, by suite: "ProcessStore" holds
// those of RunProcessStore, and so on, each in the order the suite runs them, a sub-case
// after its case and a slash ("EveryFieldRoundTrips/VerifiedCode"). A host's failing
// case reads the same, after the host's test and sub-test names. A new map on every call.
func CaseNames() map[string][]string {
	return map[string][]string{
		"AuthMethodStore":    caseNames(authMethodStoreCases),
		"ConfidantStore":     caseNames(confidantStoreCases),
		"OTPStore":           caseNames(otpStoreCases),
		"OTPStoreOutbox":     caseNames(otpStoreOutboxCases),
		"OutboxStore":        caseNames(outboxStoreCases),
		"PersonRequestStore": caseNames(personRequestStoreCases),
		"PersonStore":        caseNames(personStoreCases),
		"ProcessStore":       caseNames(processStoreCases),
		"ProfileAuditLog":    caseNames(profileAuditLogCases),
		"ProfileStore":       caseNames(profileStoreCases),
		"RateLimiter":        caseNames(rateLimiterCases),
		"ResetRequestStore":  caseNames(resetRequestStoreCases),
		"ProcessStoreOutbox": caseNames(processStoreOutboxCases),
	}
}

// featureMethod returns s as T, the method of a guarantee the Features declare, and fails the
// test when s lacks it.
func featureMethod[T any](t *testing.T, s any) T {
	t.Helper()
	o, ok := s.(T)
	if !ok {
		t.Fatalf("the Features declare porttest.%s, but the store (%T) is none", reflect.TypeFor[T]().Name(), s)
	}
	return o
}

// declared returns s as T and true when on, the Features field of T's guarantee, is set
// (failing the test when s lacks T), and false otherwise: for the parts of a case that
// check an optional method besides what the port asks.
func declared[T any](t *testing.T, s any, on bool) (T, bool) {
	t.Helper()
	if !on {
		var zero T
		return zero, false
	}
	return featureMethod[T](t, s), true
}

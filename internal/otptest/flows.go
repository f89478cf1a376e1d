package otptest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// FlowPhone is the phone every record of RaceFlowRecipientFailureBudget sends its code to.
const FlowPhone = "+380931234585"

// FlowCodeAttempts is the wrong attempts a code of a flow configured for
// RaceFlowRecipientFailureBudget allows: more than any record is guessed, so that only the
// recipient's budget stops the guesses. Its codes must live two RecipientBudgetWindows.
const FlowCodeAttempts = 50

// FlowRecords drive a flow whose records hold their own codes (person requests, OTP
// identification processes) for RaceFlowRecipientFailureBudget.
type FlowRecords struct {
	// Open opens record i, whose code goes to FlowPhone, and returns its id and its code.
	Open func(t *testing.T, i int) (id, code string)
	// Check checks code on record id (with the right second factor, if it needs one).
	Check func(id, code string) error
	// Guess is wrong guess i on record id, whose code is code: a wrong code, or (for a
	// flow with a second factor) the right code with a wrong second factor.
	Guess func(i int, id, code string) error
	// Stored returns record id as stored: its code, and all the record holds (its version,
	// which every write moves, and the events it wrote).
	Stored func(t *testing.T, id string) (ports.Verification, any)
}

// RaceFlowRecipientFailureBudget is RaceRecipientFailureBudget for a flow whose records
// hold their own codes: many records of the flow aim their codes at one phone, and wrong
// guesses are sprayed across all of them at once. The flow's engine is configured by
// RecipientBudgetConfig, its codes by FlowCodeAttempts. It checks that:
//
//   - exactly RecipientBudget guesses were counted, across all the records' codes, and
//     every other one was refused as rate limited (ErrTooManyFailures);
//   - once the budget is used up, every further check on those records is refused, the
//     right code too, and changes nothing: every record, its code and its events stay as
//     they were;
//   - the refused checks recorded nothing in the limiter: once the counted guesses have
//     left the window, a right code is accepted and exactly RecipientBudget wrong guesses
//     are counted again.
func RaceFlowRecipientFailureBudget(t *testing.T, f FlowRecords, clock *memory.Clock) {
	t.Helper()
	ids, codes := make([]string, budgetSubjects), make([]string, budgetSubjects)
	for i := range budgetSubjects {
		ids[i], codes[i] = f.Open(t, i)
	}
	guess := func(i int) error { k := i % budgetSubjects; return f.Guess(i, ids[k], codes[k]) }

	raceGuesses(t, func(i int) (bool, error) {
		err := guess(i)
		return errors.Is(err, verifykit.ErrInvalidInput), err // a wrong code or second factor, counted
	})
	before := make([]any, budgetSubjects)
	attempts := 0
	for i, id := range ids {
		var v ports.Verification
		v, before[i] = f.Stored(t, id)
		attempts += v.Code.Attempts
		require.Equal(t, ports.CodeActive, v.Code.State)
	}
	require.Equal(t, RecipientBudget, attempts, "the records' codes counted exactly the budget's attempts")

	// Used up, the budget refuses every check, the right code too, and nothing changes.
	clock.Advance(RecipientBudgetWindow / 2)
	for i, id := range ids {
		requireUsedUp(t, f.Check(id, codes[i]), RecipientBudgetWindow/2)
		requireUsedUp(t, guess(i), RecipientBudgetWindow/2)
		requireUsedUp(t, guess(i+budgetSubjects), RecipientBudgetWindow/2)
		_, after := f.Stored(t, id)
		require.Equal(t, before[i], after, "a refused check changes nothing")
	}

	// Had a refused check recorded anything (at half the window), it would still count.
	clock.Advance(RecipientBudgetWindow / 2)
	require.NoError(t, f.Check(ids[0], codes[0]), "the counted guesses left the window: the right code is accepted")
	again := 0
	for i := 1; ; i++ {
		err := guess(i)
		if errors.Is(err, otp.ErrTooManyFailures) {
			requireUsedUp(t, err, RecipientBudgetWindow)
			break
		}
		require.ErrorIs(t, err, verifykit.ErrInvalidInput)
		again++
	}
	require.Equal(t, RecipientBudget, again, "the refused checks left no failure behind")
}

// flowCodeRE finds a code in a message.
var flowCodeRE = regexp.MustCompile(`\d{4,10}`)

// sentCode returns the code of the message of sms that delivered the code v holds.
func sentCode(t *testing.T, sms *memory.SMSOutbox, v ports.Verification) string {
	t.Helper()
	for _, m := range sms.Messages() {
		if m.IdempotencyKey == v.Code.ID {
			code := flowCodeRE.FindString(m.Body)
			require.NotEmpty(t, code)
			return code
		}
	}
	require.Failf(t, "no message", "for code %s", v.Code.ID)
	return ""
}

// wrongCode is a well-formed code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// PersonRequests drives svcs (instances on one store, taking turns), on store, for RaceFlowRecipientFailureBudget: each record is a
// request of another person whose OTP method is FlowPhone, approved with its code. token
// needs both scopes of person requests; sms is the outbox their codes go to. Configure the
// service's CodeMaxAttempts with FlowCodeAttempts and CodeTTL with two
// RecipientBudgetWindows. Stored gives the request and what events(id) tells of the events
// written for it (events may be nil).
func PersonRequests(svcs []*personrequest.Service, store ports.PersonRequestStore, sms *memory.SMSOutbox, events func(id string) any, token string) FlowRecords {
	ctx := context.Background()
	var turn atomic.Int32
	svc := func() *personrequest.Service { return svcs[int(turn.Add(1))%len(svcs)] }
	f := FlowRecords{Stored: stored(events, func(id string) (ports.Verification, any, error) {
		r, err := store.Get(ctx, id)
		return r.Verification, r, err
	})}
	f.Open = func(t *testing.T, i int) (string, string) {
		t.Helper()
		r, err := svc().Create(ctx, personrequest.CreateRequest{Token: token, Person: personrequest.Person{
			FirstName: "Petro", LastName: fmt.Sprintf("Ivanenko-%d", i),
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: fmt.Sprintf("AB%06d", i)}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Alias: "mobile", Phone: FlowPhone, Primary: true}},
		}})
		require.NoError(t, err)
		v, _ := f.Stored(t, r.ID)
		return r.ID, sentCode(t, sms, v)
	}
	f.Check = func(id, code string) error {
		_, err := svc().Approve(ctx, personrequest.ApproveRequest{Token: token, ID: id, Code: code})
		return err
	}
	f.Guess = func(_ int, id, code string) error { return f.Check(id, wrongCode(code)) }
	return f
}

// stored is a FlowRecords.Stored that reads a record with get, and the events written for it
// with events (nil: none).
func stored(events func(id string) any, get func(id string) (ports.Verification, any, error)) func(*testing.T, string) (ports.Verification, any) {
	return func(t *testing.T, id string) (ports.Verification, any) {
		t.Helper()
		v, rec, err := get(id)
		require.NoError(t, err)
		if events == nil {
			return v, rec
		}
		return v, []any{rec, events(id)}
	}
}

// ProcessOrg is the organisation of the processes of Processes.
const ProcessOrg = "org-budget"

// Processes drives svcs (instances on one store, taking turns), on store, for RaceFlowRecipientFailureBudget: each record is an SMS
// process of organisation ProcessOrg to FlowPhone with the actor's document number as
// second factor; the guesses alternate wrong codes and wrong second factors. token needs
// the admin and actor scopes of ProcessOrg; sms is the outbox their codes go to. Configure
// the service's MaxAttempts with FlowCodeAttempts (processes live 30 days). Stored gives
// the process and what events(id) tells of the events written for it (events may be nil).
func Processes(svcs []*otpprocess.Service, store ports.ProcessStore, sms *memory.SMSOutbox, events func(id string) any, token string) FlowRecords {
	ctx := context.Background()
	const doc = "X1234567L"
	var turn atomic.Int32
	svc := func() *otpprocess.Service { return svcs[int(turn.Add(1))%len(svcs)] }
	f := FlowRecords{Stored: stored(events, func(id string) (ports.Verification, any, error) {
		r, err := store.Get(ctx, ProcessOrg, id)
		return r.Verification, r, err
	})}
	f.Open = func(t *testing.T, i int) (string, string) {
		t.Helper()
		res, err := svc().Create(ctx, otpprocess.CreateRequest{
			Token: token, OrgID: ProcessOrg,
			Actor: otpprocess.Actor{
				Name: fmt.Sprintf("Ana %d", i), MSISDN: ports.ProcessPhone{CountryCode: "380", PhoneNumber: FlowPhone[4:]},
				IdentityDocument: otpprocess.IdentityDocument{DocumentType: "DNI", DocumentNumber: doc},
			},
			TwoFactorType: otpprocess.TwoFactorDocumentNumber,
			Channel:       otpprocess.Channel{Type: otpprocess.ChannelSMS},
		})
		require.NoError(t, err)
		v, _ := f.Stored(t, res.Process.ID)
		return res.Process.ID, sentCode(t, sms, v)
	}
	validate := func(id, code, twoFactor string) error {
		_, err := svc().Validate(ctx, otpprocess.ValidateRequest{Token: token, OrgID: ProcessOrg, ID: id, Code: code, TwoFactor: twoFactor})
		return err
	}
	f.Check = func(id, code string) error { return validate(id, code, doc) }
	f.Guess = func(i int, id, code string) error {
		if i%2 == 1 {
			return validate(id, code, "Y7654321Z") // the right code, a wrong second factor
		}
		return validate(id, wrongCode(code), doc)
	}
	return f
}

// MemoryEvents returns the events of o written for the record id, for the Stored of
// PersonRequests and Processes on memory stores that publish to o.
func MemoryEvents(o *memory.Outbox) func(id string) any {
	return func(id string) any {
		var evs []ports.LifecycleEvent
		for _, ev := range o.Events() {
			if ev.AggregateID == id {
				evs = append(evs, ev)
			}
		}
		return evs
	}
}

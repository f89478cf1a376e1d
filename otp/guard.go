package otp

import (
	"context"
	"errors"
	"time"

	"github.com/verifykit/verifykit/ports"
)

// CheckGuard keeps one check of a code that a flow keeps in its own record (Check,
// CheckBound or CountFailure inside the record's Update) within the failure budget of the
// code's recipient (Config.RecipientFailureLimit), as Verify is kept: the budget is decided
// before the check is stored, so that no number of concurrent wrong guesses, on however
// many records whose codes went to one recipient, passes it, and once it is used up every
// check on those codes is refused, changing nothing. Get one from GuardCheck, for one call
// of the flow; it is not safe for concurrent use.
//
// The flow runs its Update through Run, calls Admit inside the Update's callback right
// after Check, CheckBound or CountFailure (returning Admit's error, when there is one,
// unchanged: the Update then writes nothing), and calls Done once Run answered nil:
//
//	guard := codes.GuardCheck(now)
//	err := guard.Run(ctx, func() (err error) {
//		rec, err = store.Update(ctx, id, func(r *Record) error {
//			// ... the flow's own rules ...
//			res, cerr = codes.Check(&r.Verification, code, now)
//			if err := guard.Admit(r.Verification, res); err != nil {
//				return err
//			}
//			// ... store what the check changed ...
//			return nil
//		})
//		return err
//	})
//	if err == nil {
//		guard.Done(ctx, rec.Verification, res, cerr)
//	}
//
// As in Verify, a check that counts a wrong guess reserves a failure of the recipient's
// budget before its write, and any other check first finds the budget not used up (the
// first Update finds the budget undecided, writes nothing, and runs again once it is
// decided); a reservation the stored check did not count is given back. A check whose
// budget is used up is refused by Run (KindRateLimited, ErrTooManyFailures, with
// RetryAfter: the answer of Verify) and records nothing. A code that names no recipient,
// or a service without a recipient budget, needs no decision: the Update runs once. What
// the check reports to the Observer (verified, failed) is reported by Done, once the check
// was stored.
type CheckGuard struct {
	s   *Service
	now time.Time
	// budget holds what was decided of the recipient's budget.
	budget budgetDecision
	// need is the budget key the last pass found undecided, counted whether its check
	// counted a failure, purpose its code's purpose.
	need, purpose string
	counted       bool
	// admitted tells that the last pass's check was admitted, on the code whose budget
	// key is key.
	admitted bool
	key      string
}

// GuardCheck returns a CheckGuard for one check, at now (the time the flow checks at).
func (s *Service) GuardCheck(now time.Time) *CheckGuard { return &CheckGuard{s: s, now: now} }

// errCheckUndecided ends, writing nothing, a flow's Update whose check is on a code whose
// recipient's failure budget was not decided for it yet (CheckGuard.Admit).
var errCheckUndecided = errors.New("otp: the recipient's failure budget is decided first")

// Admit answers, inside the record's Update right after the check of v's code answered res,
// nil when the check may be stored: its code names no recipient with a budget, or the
// budget was decided for it (a failure reserved when res counted one). Otherwise it
// answers an error the callback returns unchanged, so that the Update writes nothing and
// Run decides the budget (or refuses the check).
func (g *CheckGuard) Admit(v ports.Verification, res VerifyResult) error {
	key := g.s.recipientFailKey(v.Code.ID)
	if !g.budget.covers(key, res.Counted) {
		g.need, g.counted, g.purpose = key, res.Counted, v.Code.Purpose
		return errCheckUndecided
	}
	g.admitted, g.key = true, key
	return nil
}

// Run calls update, the flow's Update of its record, until its check was admitted (see
// Admit), and answers update's error. When the recipient's budget is used up it answers
// the refusal (KindRateLimited, ErrTooManyFailures) instead, and update has written
// nothing; a limiter that fails, or a code that keeps changing to codes of other
// recipients, answers KindUnavailable. Whatever Run answers but nil, nothing stays
// reserved.
func (g *CheckGuard) Run(ctx context.Context, update func() error) error {
	for pass := 1; ; pass++ {
		g.admitted = false
		err := update()
		if errors.Is(err, errCheckUndecided) {
			if pass >= maxBudgetPasses {
				err = unavailable("checking the code", errCodeKeptChanging)
			} else if err = g.s.decideBudget(ctx, &g.budget, g.need, g.counted, g.now); err == nil {
				continue
			} else {
				g.s.refusedByRecipientBudget(ctx, g.purpose, err)
			}
		}
		if err != nil {
			g.s.giveBackBudget(ctx, g.budget, g.now)
			g.budget = budgetDecision{}
		}
		return err
	}
}

// Done settles, once Run answered nil, the check the write stored on v, which answered res
// and err: it reports the check to the Observer, keeps the reserved failure when the check
// counted a wrong guess on the code it was reserved for and gives it back otherwise (or
// when no check ran), and counts a verified code sampled by the pumping guard as a
// conversion of its prefix (see Settle). A limiter failure is logged, not answered: the
// check itself has happened.
func (g *CheckGuard) Done(ctx context.Context, v ports.Verification, res VerifyResult, err error) {
	if held := g.budget.held; held != "" && (!g.admitted || !res.Counted || g.key != held) {
		g.s.giveBackBudget(ctx, g.budget, g.now)
	}
	g.budget = budgetDecision{}
	if g.admitted {
		g.s.checkedPurpose(v.Code.Purpose, err)
		g.s.settle(ctx, v, res, err, false) // the failure, if any, was reserved before
	}
}

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
// before Check, CheckBound or CountFailure (returning Admit's error, when there is one,
// unchanged: the Update then writes nothing), and calls Done once Run answered nil:
//
//	guard := codes.GuardCheck(now)
//	err := guard.Run(ctx, func() (err error) {
//		rec, err = store.Update(ctx, id, func(r *Record) error {
//			// ... the flow's own rules ...
//			if err := guard.Admit(r.Verification); err != nil {
//				return err
//			}
//			res, cerr = codes.Check(&r.Verification, code, now)
//			// ... store what the check changed ...
//			return nil
//		})
//		return err
//	})
//	if err == nil {
//		guard.Done(ctx, rec.Verification, res, cerr)
//	}
//
// Each check reserves a failure of the recipient's budget before it runs (the first Update
// finds none reserved, writes nothing, and runs again once a failure is reserved); the
// reservation is kept when the stored check counted a wrong guess, and given back
// otherwise. A check whose budget is used up is refused by Run (KindRateLimited,
// ErrTooManyFailures, with RetryAfter: the answer of Verify) and reserves nothing. A code
// that names no recipient, or a service without a recipient budget, needs no reservation:
// the Update runs once.
type CheckGuard struct {
	s   *Service
	now time.Time
	// budget holds the failure reserved, if any.
	budget budgetDecision
	// need is the budget key the last pass found unreserved, purpose its code's purpose.
	need, purpose string
	// admitted tells that the last pass's check was admitted, on the code whose budget
	// key is key.
	admitted bool
	key      string
}

// GuardCheck returns a CheckGuard for one check, at now (the time the flow checks at).
func (s *Service) GuardCheck(now time.Time) *CheckGuard { return &CheckGuard{s: s, now: now} }

// errCheckUndecided ends, writing nothing, a flow's Update whose check is on a code whose
// recipient's failure budget has no failure reserved for it yet (CheckGuard.Admit).
var errCheckUndecided = errors.New("otp: the recipient's failure budget is decided first")

// Admit answers, inside the record's Update right before the check of v's code, nil when
// the check may run: its code names no recipient with a budget, or a failure of that budget
// is reserved for it. Otherwise it answers an error the callback returns unchanged, so that
// the Update writes nothing and Run reserves the failure (or refuses the check).
func (g *CheckGuard) Admit(v ports.Verification) error {
	key := g.s.recipientFailKey(v.Code.ID)
	if key != "" && key != g.budget.held {
		g.need, g.purpose = key, v.Code.Purpose
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
			} else if err = g.s.decideBudget(ctx, &g.budget, g.need, true, g.now); err == nil {
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
// and err: the reserved failure is kept when the check counted a wrong guess on the code it
// was reserved for, and given back otherwise (or when no check ran), and a verified code
// sampled by the pumping guard counts as a conversion of its prefix (see Settle). A limiter
// failure is logged, not answered: the check itself has happened.
func (g *CheckGuard) Done(ctx context.Context, v ports.Verification, res VerifyResult, err error) {
	if held := g.budget.held; held != "" && (!g.admitted || !res.Counted || g.key != held) {
		g.s.giveBackBudget(ctx, g.budget, g.now)
	}
	g.budget = budgetDecision{}
	if g.admitted {
		g.s.settle(ctx, v, res, err, false) // the failure, if any, was reserved before
	}
}

// Package identification holds two identification flows.
//
// Profile identification (ProfileService): a user's profile goes through the
// identification states none, pending, review_required, declined, approved and closed. An
// operator with the RESET_IDENTIFICATION_INITIATOR permission can reset a user's
// identification and name the profile fields the user must update before submitting again
// (the SDK.Finance "reset identification with remarks" use case); users can ask for such a
// reset, and operators view, approve and decline those requests.
//
// OTP identification processes (ProcessService): an organisation opens a process for an
// actor, who proves who they are with a one-time code plus, optionally, a second factor
// (document number, e-mail). Processes are scoped by organisation, can be resent,
// cancelled and deleted, and expire.
package identification

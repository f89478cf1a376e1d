// Package identification runs profile identification (ProfileService): a user's profile
// goes through the identification states none, pending, review_required, declined,
// approved and closed. An operator with the RESET_IDENTIFICATION_INITIATOR permission can
// reset a user's identification and name the profile fields the user must update before
// submitting again (the SDK.Finance "reset identification with remarks" use case); users
// can ask for such a reset, and operators view, approve and decline those requests.
//
// Organisations (RULES.md §F). A profile and its reset requests belong to an organisation
// (ports.ProfileRecord.OrganizationID, copied to ports.ResetRequest.OrganizationID). An
// operator token that carries an organisation (ports.Claims.OrgID) acts only on that
// organisation's profiles and reset requests: resetting, changing the identification
// status, approving or declining another organisation's profile or request is answered
// exactly like an id that does not exist — the same kind, message and invalid entries —
// and changes nothing (the check runs inside the profile's ProfileStore.Update, under its
// lock). Viewing reset requests with such a token lists its organisation's requests only;
// a filter naming another organisation answers as one naming an organisation without
// requests: an empty page. An operator token without an organisation is a platform
// operator and acts across organisations. The answer of a reset shows the mandatory
// fields it has just set.
//
// OTP identification processes, the other identification flow of the SDK, are in the
// package identification/otpprocess.
package identification

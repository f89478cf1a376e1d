// Package otpprocess runs OTP identification processes (RULES.md §D): an organisation opens
// a process for an actor, who proves who they are with a one-time code plus, optionally, a
// second factor (document number, e-mail address, an image of the identity document).
// Processes are scoped by organisation, can be resent, cancelled and deleted, and expire.
//
// The states are CREATED, VALIDATED, CANCELLED, EXPIRED and BLOCKED (State, the one enum
// ports.ProcessState); only CREATED moves. A process holds its latest code
// (ports.ProcessRecord.Verification), so every use case is one atomic write of the process,
// and the code's delivery follows that write.
//
// Organisations (RULES.md §F). Every use case names the organisation; a token of another
// organisation is answered exactly like a process that does not exist (KindNotFound), and
// a token without an organisation is refused (KindForbidden).
//
// The types the use cases take and answer (Process, Actor, IdentityDocument, Channel, ...)
// are the ports types under the flow's names: a store and the flow speak the same values.
// Errors are *verifykit.Error with a kind; mapping kinds to transport codes (the process
// API's 400 for invalid input, for one) is the transports' business (adapters/httpapi).
package otpprocess

// Package otpprocess runs OTP identification processes (RULES.md §D): an organisation opens
// a process for an actor, who proves who they are with a one-time code plus, optionally, a
// second factor (document number, e-mail address, an image of the identity document).
// Processes are scoped by organisation, can be resent, cancelled and deleted, and expire.
//
// The states are CREATED, VALIDATED, CANCELLED, EXPIRED and BLOCKED; only CREATED moves.
// A process holds its latest code (ports.ProcessRecord.Verification), so every use case is
// one atomic write of the process, and the code's delivery follows that write.
package otpprocess

// Package console is an embeddable operator console for verifykit: a small, server-rendered
// web interface a host mounts under a path of its own, as an http.Handler.
//
// Operators sign in by pasting their bearer token; the console verifies it with the
// ports.TokenVerifier the domain services use and keeps it in an HttpOnly, Secure,
// SameSite=Strict cookie (never in a URL). Every page then calls the domain services with
// that token, so the services' permission and organisation rules decide what each
// operator sees and may do: the console adds no rule of its own, and shows a refusal with
// the message and invalid entries of the *verifykit.Error, as the HTTP API does.
//
// Pages, each present when its service is given (Services):
//
//   - reset identification requests: filter by status and organisation, sort, page;
//     approve or decline a PENDING request (identification.ProfileService);
//   - a profile: reset its identification with a checklist of the resettable fields
//     (ProfileService.ResettableFields), then see the profile's status and mandatory
//     fields as the reset answered them;
//   - person requests, looked up by id (the domain has no list of them): status, masked
//     phones, resend the code to one of the person's methods by alias, whether each upload
//     link is still current (personrequest.Service);
//   - OTP identification processes of an organisation: list by state, details, cancel
//     with a reason, delete (with force) (otpprocess.Service).
//
// The pages are html/template (escaped by construction) with one embedded CSS file; they
// carry no JavaScript at all and work in any browser, on a phone or a desktop. Responses
// carry a Content-Security-Policy without script, X-Content-Type-Options: nosniff,
// Referrer-Policy: no-referrer and X-Frame-Options: DENY; every state-changing form is a
// POST behind net/http.CrossOriginProtection, which refuses cross-site requests.
//
// Mount it under its base path:
//
//	ui, err := console.New(console.Services{Profiles: profiles, Processes: processes, PersonRequests: requests},
//		console.Options{BasePath: "/console/", Tokens: tokens, Logger: logger})
//	if err != nil { ... }
//	mux.Handle("/console/", ui)
//
// Browsers send Secure cookies over HTTPS only, and over plain http to localhost and
// 127.0.0.1: serve the console over HTTPS anywhere else.
package console

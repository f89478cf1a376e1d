package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/adapters/console"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// consolePath is where the server mounts the operator console.
const consolePath = "/console/"

// tokConsole is the demo token made for the console: an operator of org-demo who may do
// everything the console offers (reset requests, person requests, OTP processes with
// force-delete).
const tokConsole = "demo-console"

// mountConsole serves the operator console at consolePath in front of a.handler, on the
// services of a, and adds the demo token tokConsole. Should the console not build, it is
// left out and the error is logged: the API still serves.
func (a *app) mountConsole(logger *slog.Logger) {
	profiles, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: a.profileStore, ResetRequests: a.resetStore, Tokens: a.tokens, Clock: a.clock, Logger: logger,
	}, identification.DefaultProfileConfig())
	if err != nil {
		logger.Error("operator console left out", "error", err.Error())
		return
	}
	ui, err := console.New(console.Services{Profiles: profiles, Processes: a.processes, PersonRequests: a.requests},
		console.Options{BasePath: consolePath, Tokens: a.tokens, Clock: a.clock, Logger: logger})
	if err != nil {
		logger.Error("operator console left out", "error", err.Error())
		return
	}
	a.tokens.Add(tokConsole, ports.Claims{
		Subject: "console-operator", OrgID: demoOrg,
		Scopes:      []string{personrequest.ScopeRead, personrequest.ScopeWrite, otpprocess.DefaultAdminScope},
		Permissions: []string{identification.PermissionResetIdentificationInitiator, otpprocess.DefaultForceDeletePermission},
		ExpiresAt:   a.clock.Now().Add(30 * 24 * time.Hour),
	})
	mux := http.NewServeMux()
	mux.Handle(consolePath, ui)
	mux.Handle("/", a.handler)
	a.handler = mux
}

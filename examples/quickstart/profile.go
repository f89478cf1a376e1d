package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// demoProfile runs the "reset identification with remarks" journey: a user asks for a
// reset, an operator views the pending requests and resets the identification naming the
// fields to update, the user updates them and submits, and the profile is pending again.
func demoProfile(ctx context.Context, w io.Writer) error {
	clock := memory.NewClock(time.Now())
	tokens := memory.NewTokens()
	tokens.Add("user-token", ports.Claims{Subject: "user-7", ExpiresAt: clock.Now().Add(time.Hour)})
	tokens.Add("operator-token", ports.Claims{Subject: "operator-1", ExpiresAt: clock.Now().Add(time.Hour),
		Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	tokens.Add("clerk-token", ports.Claims{Subject: "clerk-1", ExpiresAt: clock.Now().Add(time.Hour)})
	profiles := memory.NewProfileStore()
	audit := profiles.AuditLog()
	err := profiles.Create(ctx, ports.ProfileRecord{
		UserID: "user-7", OrganizationID: "org-eu",
		Profile: ports.Profile{
			Person:  ports.ProfilePerson{NamePlain: ports.ProfileName{First: "Maria", Last: "Garcia"}},
			Contact: ports.ProfileContact{Email: "maria@example.com"},
			Type:    "base", Status: ports.IdentificationApproved,
			Address: ports.ProfileAddress{Country: "AD", City: "Andorra la Vella", Street: "Carrer Major"},
		},
		Documents: []ports.ProfileDocument{{ID: "doc-1", Type: "PASSPORT", Status: ports.DocumentApproved, UpdatedAt: clock.Now()}},
	})
	if err != nil {
		return err
	}
	svc, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: profiles, ResetRequests: profiles.ResetRequests(), Tokens: tokens, Clock: clock,
	}, identification.DefaultProfileConfig())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "user-7's profile is %q; %d profile fields can be named in a reset.\n",
		ports.IdentificationApproved, len(svc.ResettableFields()))

	asked, err := svc.AskForReset(ctx, identification.AskForResetRequest{Token: "user-token", Description: "I moved house"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "user-7 asks for a reset: request %s…, %s.\n", asked.Request.ID[:8], asked.Request.Status)
	_, err = svc.AskForReset(ctx, identification.AskForResetRequest{Token: "user-token"})
	fmt.Fprintf(w, "Asking again: %s\n", describe(err))

	page, err := svc.ViewResetRequests(ctx, identification.ViewResetRequestsRequest{
		Token:  "operator-token",
		Filter: identification.ResetRequestFilter{Status: ports.ResetRequestPending, OrganizationID: "org-eu"},
		Sort:   identification.ResetRequestSort{CreatedAt: "desc"}, PageSize: 20,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The operator views pending requests of org-eu: %d record(s) on %d page(s), first from %s.\n",
		page.TotalRecords, page.TotalPages, page.Records[0].UserID)

	fields := []string{"address.city", "address.street", "address.zipCode"}
	_, err = svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: "clerk-token", UserID: "user-7", Fields: fields})
	fmt.Fprintf(w, "A clerk without the permission tries to reset: %s\n", describe(err))
	_, err = svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{
		Token: "operator-token", UserID: "user-7", Fields: []string{"address.city", "address.town", ""},
	})
	fmt.Fprintf(w, "A reset naming bad fields changes nothing: %s\n", describe(err))

	reset, err := svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{Token: "operator-token", UserID: "user-7", Fields: fields})
	if err != nil {
		return err
	}
	answer, err := json.Marshal(map[string]any{"status": reset.Status, "profile.status": reset.Profile.Status})
	if err != nil {
		return err
	}
	rec, err := profiles.Get(ctx, "user-7")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The operator resets it with %s: answer %s; passport %s; user must update %v.\n",
		strings.Join(fields, ", "), answer, rec.Documents[0].Status, rec.PendingFields)

	_, err = svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: "user-token"})
	fmt.Fprintf(w, "user-7 submits at once: %s\n", describe(err))
	_, err = svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: "user-token", Changes: []identification.ProfileFieldChange{
		{Path: "address.city", Value: "Escaldes-Engordany"}, {Path: "address.street", Value: "Avinguda Carlemany"},
		{Path: "address.zipCode", Value: "AD700"},
	}})
	if err != nil {
		return err
	}
	sub, err := svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: "user-token"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "user-7 updates the three fields and submits: the profile is %q, city %q.\n",
		sub.Profile.Status, sub.Profile.Address.City)

	events, err := audit.Events(ctx, "user-7")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Audit trail:")
	for _, ev := range events {
		fmt.Fprintf(w, "  %-24s by %-10s %v\n", ev.Action, ev.ActorID, ev.Fields)
	}
	return nil
}

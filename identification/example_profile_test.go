package identification_test

import (
	"context"
	"fmt"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// An operator resets a user's identification and names the fields to update; the user
// updates them and submits the profile again.
func ExampleProfileService_ResetIdentification() {
	ctx := context.Background()
	clock := memory.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	tokens := memory.NewTokens()
	tokens.Add("operator-token", ports.Claims{Subject: "operator-1", ExpiresAt: clock.Now().Add(time.Hour),
		Permissions: []string{identification.PermissionResetIdentificationInitiator}})
	tokens.Add("user-token", ports.Claims{Subject: "user-1", ExpiresAt: clock.Now().Add(time.Hour)})
	profiles := memory.NewProfileStore()
	_ = profiles.Create(ctx, ports.ProfileRecord{UserID: "user-1", Profile: ports.Profile{
		Type: "base", Status: ports.IdentificationApproved,
		Address: ports.ProfileAddress{Country: "AD", City: "Andorra la Vella"},
	}})
	svc, err := identification.NewProfileService(identification.ProfileDeps{
		Profiles: profiles, ResetRequests: profiles.ResetRequests(), Tokens: tokens, Clock: clock,
	}, identification.DefaultProfileConfig())
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{
		Token: "operator-token", UserID: "user-1", Fields: []string{"address.city", "address.street"},
	})
	fmt.Println("reset:", err)
	_, err = svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{
		Token: "operator-token", UserID: "user-1", Fields: []string{"address.town"},
	})
	fmt.Println("unknown field:", err)

	_, err = svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: "user-token"})
	fmt.Println("submit too early:", err)
	_, _ = svc.UpdateProfile(ctx, identification.UpdateProfileRequest{Token: "user-token", Changes: []identification.ProfileFieldChange{
		{Path: "address.city", Value: "Escaldes-Engordany"}, {Path: "address.street", Value: "Avinguda Carlemany"},
	}})
	res, err := svc.SubmitIdentification(ctx, identification.SubmitIdentificationRequest{Token: "user-token"})
	fmt.Println("submit:", res.Profile.Status, err)
	// Output:
	// reset: <nil>
	// unknown field: Validation failed.: $.fields[0] unknown profile field
	// submit too early: Mandatory fields are not updated: $.address.city must be updated before submitting; $.address.street must be updated before submitting
	// submit: pending <nil>
}

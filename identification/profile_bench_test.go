package identification_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// BenchmarkResetIdentification resets the identification of 1000 users in turn, each with
// three fields, on the memory adapters: token and permission check, validation, the atomic
// profile write, the reset-request lookup and the audit event.
func BenchmarkResetIdentification(b *testing.B) {
	ctx := context.Background()
	env := newProfileEnv(b)
	const users = 1000
	for i := range users {
		env.addProfile(b, fmt.Sprintf("user-%d", i), "org", ports.IdentificationApproved)
	}
	fields := []string{"person.namePlain.first", "contact.email", "address.city"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_, err := env.svc.ResetIdentification(ctx, identification.ResetIdentificationRequest{
			Token: tokOperator, UserID: fmt.Sprintf("user-%d", i%users), Fields: fields,
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

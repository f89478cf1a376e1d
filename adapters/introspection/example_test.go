package introspection_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/verifykit/verifykit/adapters/introspection"
	"github.com/verifykit/verifykit/adapters/memory"
)

// Example asks a Keycloak-shaped introspection endpoint about an opaque token; the second
// verification is answered from the cache.
func Example() {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	var calls atomic.Int32
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if id, secret, _ := r.BasicAuth(); id != "verifykit" || secret != "s3cret" || r.FormValue("token") != "opaque-1" {
			_ = json.NewEncoder(w).Encode(map[string]any{"active": false})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"active": true, "sub": "f1c2", "scope": "person_request:read person_request:write",
			"exp": now.Add(10 * time.Minute).Unix(), "person_id": "petro",
			"realm_access": map[string]any{"roles": []string{"RESET_IDENTIFICATION_INITIATOR"}},
		})
	}))
	defer idp.Close()

	v, err := introspection.New(introspection.Config{
		Endpoint: idp.URL, ClientID: "verifykit", ClientSecret: "s3cret",
		Claims:   introspection.ClaimMapping{PersonID: "person_id", Permissions: []string{"realm_access.roles"}},
		CacheTTL: 5 * time.Minute,
		Clock:    memory.NewClock(now),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	c, err := v.VerifyToken(ctx, "opaque-1")
	fmt.Println(c.Subject, c.PersonID, c.Scopes, c.Permissions, err)
	_, _ = v.VerifyToken(ctx, "opaque-1")
	_, err = v.VerifyToken(ctx, "revoked")
	fmt.Println(err != nil, calls.Load())
	// Output:
	// f1c2 petro [person_request:read person_request:write] [RESET_IDENTIFICATION_INITIATOR] <nil>
	// true 2
}

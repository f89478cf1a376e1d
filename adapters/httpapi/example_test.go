package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/verifykit/verifykit/adapters/httpapi"
	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/authmethod"
	"github.com/verifykit/verifykit/ports"
)

// A host builds the domain services it wants to expose and mounts the Handler; each
// service's routes are served, and /openapi.json documents exactly those.
func Example() {
	ctx := context.Background()
	persons, methods := memory.NewPersonStore(), memory.NewAuthMethodStore()
	tokens := memory.NewTokens()
	_ = persons.CreatePerson(ctx, ports.PersonRecord{ID: "olena", BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC),
		Status: authmethod.PersonStatusActive, IsActive: true, VerificationStatus: authmethod.StatusVerified})
	_ = methods.AddAuthMethod(ctx, ports.AuthMethodRecord{ID: "am-1", PersonID: "olena", Type: authmethod.TypeOTP,
		Phone: "+380931234585", IsActive: true, IsPrimary: true})
	tokens.Add("token-olena", ports.Claims{PersonID: "olena", Scopes: []string{authmethod.ReadScope}, ExpiresAt: time.Now().Add(time.Hour)})

	methodsSvc, err := authmethod.NewService(authmethod.Deps{
		Persons: persons, Methods: methods, Confidants: memory.NewConfidantStore(), Tokens: tokens,
	}, authmethod.DefaultConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := httpapi.New(httpapi.Services{AuthMethods: methodsSvc}, httpapi.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	// In a host: http.ListenAndServe(addr, h), or mux.Handle("/", h).

	req := httptest.NewRequest(http.MethodGet, "/api/pis/authentication_methods", nil)
	req.Header.Set("Authorization", "Bearer token-olena")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body struct {
		Data []struct {
			ID          string `json:"id"`
			PhoneNumber string `json:"phone_number"`
			IsPrimary   bool   `json:"is_primary"`
		} `json:"data"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	fmt.Println(rec.Code, body.Data)
	// Output:
	// 200 [{am-1 +38093*****85 true}]
}

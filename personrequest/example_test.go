package personrequest_test

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/verifykit/verifykit/adapters/memory"
	"github.com/verifykit/verifykit/otp"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// A person request is created and its code goes to the person's phone; the code is resent
// to the third person (the person's mother), and the request is approved with her code.
func ExampleService_ResendAuthMethod() {
	ctx := context.Background()
	clock := memory.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	sms := memory.NewSMSOutbox()
	ocfg := otp.DefaultConfig()
	ocfg.Secrets = [][]byte{[]byte("an example secret of 32 bytes...")}
	codes, err := otp.NewService(otp.Deps{Store: memory.NewOTPStore(), SMS: sms, Limiter: memory.NewRateLimiter(), Clock: clock}, ocfg)
	if err != nil {
		panic(err)
	}
	tokens := memory.NewTokens()
	tokens.Add("registrar-token", ports.Claims{
		Subject:   "registrar",
		Scopes:    []string{personrequest.ScopeWrite, personrequest.ScopeRead},
		ExpiresAt: clock.Now().Add(time.Hour),
	})
	svc, err := personrequest.NewService(personrequest.Deps{
		Store: memory.NewPersonRequestStore(), OTP: codes, Tokens: tokens,
		Uploads: memory.NewUploadSigner(), Clock: clock,
	}, personrequest.DefaultConfig())
	if err != nil {
		panic(err)
	}

	r, err := svc.Create(ctx, personrequest.CreateRequest{
		Token: "registrar-token",
		Person: personrequest.Person{
			FirstName: "Petro", LastName: "Ivanenko",
			Documents: []personrequest.Document{{Type: "BIRTH_CERTIFICATE", Number: "I-AB 123456"}},
			AuthMethods: []personrequest.AuthMethod{
				{Type: personrequest.AuthOTP, Alias: "own phone", Phone: "+380931234585", Primary: true},
				{Type: personrequest.AuthThirdPerson, Alias: "mother"},
			},
		},
		ThirdPerson: personrequest.Person{
			FirstName: "Olena", LastName: "Ivanenko",
			Documents:   []personrequest.Document{{Type: "PASSPORT", Number: "CD654321"}},
			AuthMethods: []personrequest.AuthMethod{{Type: personrequest.AuthOTP, Phone: "+380501112233", Primary: true}},
		},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Status, r.Urgent.AuthenticationMethodCurrent.Type, r.Urgent.AuthenticationMethodCurrent.PhoneNumber)

	clock.Advance(time.Minute)
	r, err = svc.ResendAuthMethod(ctx, personrequest.ResendRequest{Token: "registrar-token", ID: r.ID, Alias: "mother"})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Status, r.Urgent.AuthenticationMethodCurrent.Type, r.Urgent.AuthenticationMethodCurrent.PhoneNumber)
	for _, d := range r.Urgent.Documents {
		fmt.Println("upload", d.Type)
	}

	msg, _ := sms.Last("+380501112233")
	code := regexp.MustCompile(`\d{6}`).FindString(msg.Body)
	r, err = svc.Approve(ctx, personrequest.ApproveRequest{Token: "registrar-token", ID: r.ID, Code: code})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Status)
	// Output:
	// NEW OTP +38093*****85
	// NEW THIRD_PERSON +38050*****33
	// upload person.BIRTH_CERTIFICATE
	// upload third_person.PASSPORT
	// APPROVED
}

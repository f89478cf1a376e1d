package personrequest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/internal/logid"
	"github.com/verifykit/verifykit/ports"
)

// CreateRequest asks to create a person request.
type CreateRequest struct {
	// Token is the caller's access token; it needs ScopeWrite.
	Token string
	// Person is the person's data: names, documents, and at least one authentication
	// method, exactly one of them primary.
	Person Person
	// ThirdPerson is required when the person has a THIRD_PERSON method, and not allowed
	// otherwise; their methods follow the same rules, but cannot be THIRD_PERSON.
	ThirdPerson Person
}

// Create validates the person data (every problem at once, as JSONPath entries under
// "$.person" and "$.third_person"), signs upload URLs for the documents, sends the first
// code to the primary method when it is OTP (or THIRD_PERSON whose third person's primary
// method is OTP), and stores the request as NEW with the primary as its current method.
//
// The request and its first code are stored in one write. Create is the one use case that
// delivers before it writes: nothing of the request exists yet, so no older code or URL
// must die first, and a failed or rate-limited send (KindUnavailable, KindRateLimited)
// stores nothing. Should the write fail after the SMS went out, that code confirms no
// request, and nothing can use it.
func (s *Service) Create(ctx context.Context, req CreateRequest) (_ Request, err error) {
	ctx, end := s.start(ctx, "Create")
	defer func() { end(err) }()
	actor, err := s.authorizeAs(ctx, req.Token, ScopeWrite)
	if err != nil {
		return Request{}, err
	}
	primary, err := validateCreate(req, s.otp.ParsePhone)
	if err != nil {
		return Request{}, err
	}
	now := s.clock.Now()
	r := ports.PersonRequest{
		ID:                uuid.NewString(),
		Status:            StatusNew,
		Person:            req.Person.Clone(),
		ThirdPerson:       req.ThirdPerson.Clone(),
		CurrentAuthMethod: primary,
		UploadVersion:     1,
		CreatedAt:         now,
		UpdatedAt:         now,
	}
	normalizePhones(&r.Person, s.otp.ParsePhone)
	normalizePhones(&r.ThirdPerson, s.otp.ParsePhone)
	if r.Uploads, err = s.signUploads(ctx, r, r.UploadVersion, now); err != nil {
		return Request{}, err
	}
	if phone, ok := codePhone(r, primary); ok {
		d, err := s.drawCode(ctx, r.ID, phone)
		if err != nil {
			return Request{}, verifykit.RenameEntry(err, "$.recipient", codePhoneEntry(r, primary))
		}
		s.otp.Bind(d, approvalBinding(r.ID, r.UploadVersion))
		s.otp.Put(&r.Verification, d)
		s.emitIssued(&r, d, actor)
		if err := s.otp.Send(ctx, d); err != nil {
			return Request{}, err
		}
	}
	s.emit(&r, EventCreated, actor, now)
	if err := s.store.Create(ctx, r); err != nil {
		return Request{}, storeErr(err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "person request created",
		logid.Attr("person_request_id", r.ID),
		slog.String("auth_method", string(r.Person.AuthMethods[primary].Type)))
	return s.view(r), nil
}

// parsePhone parses a phone number (ports.ParsePhone; the engine's, which remembers it
// for the code it then sends).
type parsePhone func(string) (ports.Phone, error)

// validateCreate checks the person data and returns the index of the primary method.
func validateCreate(req CreateRequest, parse parsePhone) (int, error) {
	var v verifykit.Validation
	primary, hasThird := validatePerson(&v, "$.person", req.Person, true, parse)
	switch {
	case hasThird && req.ThirdPerson.IsZero():
		v.Add("$.third_person", "required", "a THIRD_PERSON authentication method needs the third person")
	case !req.ThirdPerson.IsZero() && !hasThird:
		v.Add("$.third_person", "absence", "is only allowed with a THIRD_PERSON authentication method")
	case hasThird:
		validatePerson(&v, "$.third_person", req.ThirdPerson, false, parse)
	}
	return primary, v.Err()
}

// validatePerson records every problem of p under path. It returns the index of the
// primary method and whether p has a THIRD_PERSON method.
func validatePerson(v *verifykit.Validation, path string, p Person, thirdAllowed bool, parse parsePhone) (primary int, hasThird bool) {
	v.Required(path+".first_name", p.FirstName)
	v.Required(path+".last_name", p.LastName)
	docTypes := make(map[string]bool, len(p.Documents))
	for i, d := range p.Documents {
		at := fmt.Sprintf("%s.documents[%d]", path, i)
		v.Required(at+".type", d.Type)
		v.Required(at+".number", d.Number)
		if d.Type != "" && docTypes[d.Type] {
			v.Add(at+".type", "uniqueness", "another document has this type")
		}
		docTypes[d.Type] = true
	}
	methods := path + ".authentication_methods"
	if len(p.AuthMethods) == 0 {
		v.Add(methods, "length", "at least one authentication method is required")
		return -1, false
	}
	primary, primaries := -1, 0
	aliases := make(map[string]bool, len(p.AuthMethods))
	for i, m := range p.AuthMethods {
		at := fmt.Sprintf("%s[%d]", methods, i)
		switch m.Type {
		case AuthOTP:
			if m.Phone == "" {
				v.Add(at+".phone_number", "required", "an OTP method needs a phone number")
			} else if _, err := parse(m.Phone); err != nil {
				v.Add(at+".phone_number", "format", ports.PhoneFormatHint)
			}
		case AuthOffline, AuthNA:
		case AuthThirdPerson:
			if !thirdAllowed {
				v.Add(at+".type", "inclusion", "a third person cannot have a THIRD_PERSON method")
			}
			hasThird = true
		default:
			v.Add(at+".type", "inclusion", "must be one of OTP, OFFLINE, THIRD_PERSON, NA")
		}
		if m.Type != AuthOTP && m.Phone != "" {
			v.Add(at+".phone_number", "absence", "only an OTP method has a phone number")
		}
		if a := strings.TrimSpace(m.Alias); a != "" {
			if aliases[a] {
				v.Add(at+".alias", "uniqueness", "another authentication method has this alias")
			}
			aliases[a] = true
		}
		if m.Primary {
			primary = i
			primaries++
		}
	}
	if primaries != 1 {
		v.Add(methods, "primary", fmt.Sprintf("exactly one authentication method must be primary, got %d", primaries))
	}
	return primary, hasThird
}

// normalizePhones writes the phone numbers of p's methods, which validatePerson accepted,
// in E.164 form: "+380 93 123-45-85" is stored as "+380931234585".
func normalizePhones(p *Person, parse parsePhone) {
	for i, m := range p.AuthMethods {
		if ph, err := parse(m.Phone); m.Phone != "" && err == nil {
			p.AuthMethods[i].Phone = ph.E164
		}
	}
}

// codePhoneEntry names the phone number codePhone(r, primary) answers, for an engine's
// refusal of the recipient (a region or number type not allowed).
func codePhoneEntry(r ports.PersonRequest, primary int) string {
	if r.Person.AuthMethods[primary].Type == AuthOTP {
		return fmt.Sprintf("$.person.authentication_methods[%d].phone_number", primary)
	}
	for i, tm := range r.ThirdPerson.AuthMethods {
		if tm.Primary && tm.Type == AuthOTP {
			return fmt.Sprintf("$.third_person.authentication_methods[%d].phone_number", i)
		}
	}
	return "$.person.authentication_methods"
}

package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/verifykit/verifykit/personrequest"
)

// The wire types of the eHealth person-request routes. The domain types carry no JSON
// names, so the adapter owns the eHealth shapes (snake_case) and converts at the edge.

// wirePerson is the person, or the third person, of a person request.
type wirePerson struct {
	FirstName             string           `json:"first_name"`
	LastName              string           `json:"last_name"`
	SecondName            string           `json:"second_name,omitempty"`
	Documents             []wireDocument   `json:"documents,omitempty"`
	AuthenticationMethods []wireAuthMethod `json:"authentication_methods,omitempty"`
}

type wireDocument struct {
	Type   string `json:"type"`
	Number string `json:"number"`
}

type wireAuthMethod struct {
	Type        string `json:"type"`
	Alias       string `json:"alias,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`
	IsPrimary   bool   `json:"is_primary"`
}

// createPersonRequestBody is the body of POST /api/person_requests.
type createPersonRequestBody struct {
	Person      wirePerson  `json:"person"`
	ThirdPerson *wirePerson `json:"third_person,omitempty"`
}

// wirePersonRequest is the "data" of every person-request answer.
type wirePersonRequest struct {
	ID          string      `json:"id"`
	Status      string      `json:"status"`
	Person      wirePerson  `json:"person"`
	ThirdPerson *wirePerson `json:"third_person,omitempty"`
	CreatedAt   time.Time   `json:"inserted_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	ExpiresAt   time.Time   `json:"expires_at"`
	Urgent      wireUrgent  `json:"urgent"`
}

// wireUrgent is the eHealth "urgent" block: phones are masked.
type wireUrgent struct {
	AuthenticationMethodCurrent wireAuthMethod   `json:"authentication_method_current"`
	AuthenticationMethods       []wireAuthMethod `json:"authentication_methods"`
	Documents                   []wireUpload     `json:"documents"`
}

type wireUpload struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// envelope is the eHealth answer: {"meta":{...},"data":...}.
type envelope struct {
	Meta meta `json:"meta"`
	Data any  `json:"data"`
}

func (p wirePerson) domain() personrequest.Person {
	out := personrequest.Person{FirstName: p.FirstName, LastName: p.LastName, SecondName: p.SecondName}
	for _, d := range p.Documents {
		out.Documents = append(out.Documents, personrequest.Document{Type: d.Type, Number: d.Number})
	}
	for _, m := range p.AuthenticationMethods {
		out.AuthMethods = append(out.AuthMethods, personrequest.AuthMethod{
			Type: personrequest.AuthType(m.Type), Alias: m.Alias, Phone: m.PhoneNumber, Primary: m.IsPrimary,
		})
	}
	return out
}

func toWirePerson(p personrequest.Person) wirePerson {
	out := wirePerson{FirstName: p.FirstName, LastName: p.LastName, SecondName: p.SecondName}
	for _, d := range p.Documents {
		out.Documents = append(out.Documents, wireDocument{Type: d.Type, Number: d.Number})
	}
	for _, m := range p.AuthMethods {
		out.AuthenticationMethods = append(out.AuthenticationMethods, wireAuthMethod{
			Type: string(m.Type), Alias: m.Alias, PhoneNumber: m.Phone, IsPrimary: m.Primary,
		})
	}
	return out
}

func toWireUrgentMethod(m personrequest.UrgentAuthMethod) wireAuthMethod {
	return wireAuthMethod{Type: string(m.Type), Alias: m.Alias, PhoneNumber: m.PhoneNumber, IsPrimary: m.Primary}
}

func toWirePersonRequest(r personrequest.Request) wirePersonRequest {
	out := wirePersonRequest{
		ID: r.ID, Status: string(r.Status), Person: toWirePerson(r.Person),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ExpiresAt: r.ExpiresAt,
		Urgent: wireUrgent{
			AuthenticationMethodCurrent: toWireUrgentMethod(r.Urgent.AuthenticationMethodCurrent),
			AuthenticationMethods:       []wireAuthMethod{},
			Documents:                   []wireUpload{},
		},
	}
	if !r.ThirdPerson.IsZero() {
		tp := toWirePerson(r.ThirdPerson)
		out.ThirdPerson = &tp
	}
	for _, m := range r.Urgent.AuthenticationMethods {
		out.Urgent.AuthenticationMethods = append(out.Urgent.AuthenticationMethods, toWireUrgentMethod(m))
	}
	for _, d := range r.Urgent.Documents {
		out.Urgent.Documents = append(out.Urgent.Documents, wireUpload{Type: d.Type, URL: d.URL})
	}
	return out
}

// answerObject writes data in the eHealth envelope with meta code, url and type "object",
// or returns err.
func answerObject(w http.ResponseWriter, r *http.Request, code int, data any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, code, envelope{
		Meta: meta{Code: code, URL: r.URL.Path, Type: "object", RequestID: requestID(r.Context())},
		Data: data,
	})
	return nil
}

// personRequestRoutes registers the eHealth person-request routes (RULES.md §A) under
// /api/person_requests: create and get, the resend of the authentication method (POST
// .../actions/resend_auth_method and the older .../actions/resend_otp), and the status
// actions approve, sign, reject and cancel (PATCH .../actions/<action>, as eHealth).
// Answers are {"meta":{...},"data":<request>} with the request's urgent block.
func (h *Handler) personRequestRoutes(s *personrequest.Service) {
	const base = "/api/person_requests"
	reply := func(w http.ResponseWriter, r *http.Request, code int, res personrequest.Request, err error) error {
		return answerObject(w, r, code, toWirePersonRequest(res), err)
	}
	h.handle("POST", base, func(w http.ResponseWriter, r *http.Request) error {
		var b createPersonRequestBody
		if err := h.decodeJSON(r, &b, false); err != nil {
			return err
		}
		req := personrequest.CreateRequest{Token: bearer(r), Person: b.Person.domain()}
		if b.ThirdPerson != nil {
			req.ThirdPerson = b.ThirdPerson.domain()
		}
		res, err := s.Create(r.Context(), req)
		return reply(w, r, http.StatusCreated, res, err)
	})
	h.handle("GET", base+"/{id}", func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.Get(r.Context(), personrequest.GetRequest{Token: bearer(r), ID: r.PathValue("id")})
		return reply(w, r, http.StatusOK, res, err)
	})
	resend := func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			Alias string `json:"alias"`
			Type  string `json:"type"`
		}
		if err := h.decodeJSON(r, &b, true); err != nil {
			return err
		}
		res, err := s.ResendAuthMethod(r.Context(), personrequest.ResendRequest{
			Token: bearer(r), ID: r.PathValue("id"), Alias: b.Alias, Type: personrequest.AuthType(b.Type),
		})
		return reply(w, r, http.StatusOK, res, err)
	}
	h.handle("POST", base+"/{id}/actions/resend_auth_method", resend)
	h.handle("POST", base+"/{id}/actions/resend_otp", resend)
	h.handle("PATCH", base+"/{id}/actions/approve", func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			VerificationCode string `json:"verification_code"`
		}
		if err := h.decodeJSON(r, &b, true); err != nil {
			return err
		}
		res, err := s.Approve(r.Context(), personrequest.ApproveRequest{
			Token: bearer(r), ID: r.PathValue("id"), Code: b.VerificationCode,
		})
		return reply(w, r, http.StatusOK, res, err)
	})
	for _, a := range []struct {
		name string
		do   func(*personrequest.Service, context.Context, personrequest.ActionRequest) (personrequest.Request, error)
	}{
		{"sign", (*personrequest.Service).Sign},
		{"reject", (*personrequest.Service).Reject},
		{"cancel", (*personrequest.Service).Cancel},
	} {
		h.handle("PATCH", base+"/{id}/actions/"+a.name, func(w http.ResponseWriter, r *http.Request) error {
			if err := h.decodeJSON(r, &struct{}{}, true); err != nil {
				return err
			}
			res, err := a.do(s, r.Context(), personrequest.ActionRequest{Token: bearer(r), ID: r.PathValue("id")})
			return reply(w, r, http.StatusOK, res, err)
		})
	}
}

package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/authmethod"
)

// wireAuthenticationMethod is an authentication method as the PIS routes answer it, with
// the phone as the domain answers it: masked.
type wireAuthenticationMethod struct {
	ID          string     `json:"id"`
	PersonID    string     `json:"person_id"`
	Type        string     `json:"type"`
	Alias       string     `json:"alias,omitempty"`
	PhoneNumber string     `json:"phone_number,omitempty"`
	Value       string     `json:"value,omitempty"`
	StartedAt   time.Time  `json:"started_at"`
	EndedAt     *time.Time `json:"ended_at"`
	IsActive    bool       `json:"is_active"`
	IsPrimary   bool       `json:"is_primary"`
}

// deactivateBody is the optional body of the deactivate routes: the person whose method it
// is. Without it, the person is the method's owner (or the applicant when no method has
// the id).
type deactivateBody struct {
	PersonID string `json:"person_id"`
}

// wireExplanation is the answer of the dry run.
type wireExplanation struct {
	Allowed     bool         `json:"allowed"`
	ApplicantID string       `json:"applicant_id"`
	PersonID    string       `json:"person_id"`
	MethodID    string       `json:"authentication_method_id"`
	Checks      []wireCheck  `json:"checks"`
	Error       *wireOutcome `json:"error"`
}

type wireCheck struct {
	Rule    string       `json:"rule"`
	Outcome string       `json:"outcome"`
	Reason  string       `json:"reason,omitempty"`
	Error   *wireOutcome `json:"error,omitempty"`
}

// wireOutcome is the error a failed rule gives: the status and body Deactivate would
// answer.
type wireOutcome struct {
	Code    int    `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

func toWireAuthenticationMethod(m authmethod.AuthMethod) wireAuthenticationMethod {
	out := wireAuthenticationMethod{
		ID: m.ID, PersonID: m.PersonID, Type: string(m.Type), Alias: m.Alias, PhoneNumber: m.Phone, Value: m.Value,
		StartedAt: m.StartedAt, IsActive: m.IsActive, IsPrimary: m.IsPrimary,
	}
	if !m.EndedAt.IsZero() {
		ended := m.EndedAt
		out.EndedAt = &ended
	}
	return out
}

func outcome(kind verifykit.Kind, message string) *wireOutcome {
	code, typ := status(kind)
	return &wireOutcome{Code: code, Type: typ, Message: message}
}

func toWireExplanation(ex authmethod.Explanation) wireExplanation {
	out := wireExplanation{
		Allowed: ex.Allowed, ApplicantID: ex.ApplicantID, PersonID: ex.PersonID, MethodID: ex.MethodID,
		Checks: make([]wireCheck, 0, len(ex.Checks)),
	}
	for _, c := range ex.Checks {
		wc := wireCheck{Rule: string(c.Rule), Outcome: string(c.Outcome), Reason: c.Reason}
		if c.Outcome == authmethod.Failed {
			wc.Error = outcome(c.Kind, c.Message)
		}
		out.Checks = append(out.Checks, wc)
	}
	var ve *verifykit.Error
	if errors.As(ex.Err, &ve) {
		out.Error = outcome(ve.Kind, ve.Message)
	}
	return out
}

// authMethodRoutes registers the eHealth patient-portal routes of RULES.md §B:
//
//   - GET /api/pis/authentication_methods lists a person's methods (phones masked), the
//     token's person's or, with ?person_id=, the person whose confidant the token's
//     person is; 200 with meta.type "list". It needs authmethod.ReadScope;
//   - PATCH /api/pis/authentication_methods/{id}/actions/deactivate ends the method and
//     answers it, 201 as eHealth does;
//   - POST /api/pis/authentication_methods/{id}/actions/deactivate/explain is its dry run:
//     200 with whether the deactivation would be allowed now, every rule's outcome and
//     reason, and the status and message a deactivation would answer. Token and scope
//     failures answer as the deactivation does.
//
// Both take an optional body {"person_id": "..."} naming the person whose method it is;
// without it the person is the method's owner. The applicant is the token's person_id:
// the person themselves, or their confidant.
func (h *Handler) authMethodRoutes(s *authmethod.Service) {
	const base = "/api/pis/authentication_methods/{id}/actions/deactivate"
	request := func(r *http.Request) (authmethod.DeactivateRequest, error) {
		var b deactivateBody
		if err := h.decodeJSON(r, &b, true); err != nil {
			return authmethod.DeactivateRequest{}, err
		}
		return authmethod.DeactivateRequest{Token: bearer(r), PersonID: b.PersonID, MethodID: r.PathValue("id")}, nil
	}
	h.handle("GET", "/api/pis/authentication_methods", func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.List(r.Context(), authmethod.ListRequest{Token: bearer(r), PersonID: r.URL.Query().Get("person_id")})
		if err != nil {
			return err
		}
		out := make([]wireAuthenticationMethod, 0, len(res.Methods))
		for _, m := range res.Methods {
			out = append(out, toWireAuthenticationMethod(m))
		}
		writeJSON(w, http.StatusOK, envelope{
			Meta: meta{Code: http.StatusOK, URL: r.URL.Path, Type: "list", RequestID: requestID(r.Context())},
			Data: out,
		})
		return nil
	})
	h.handle("PATCH", base, func(w http.ResponseWriter, r *http.Request) error {
		req, err := request(r)
		if err != nil {
			return err
		}
		res, err := s.Deactivate(r.Context(), req)
		return answerObject(w, r, http.StatusCreated, toWireAuthenticationMethod(res.Method), err)
	})
	h.handle("POST", base+"/explain", func(w http.ResponseWriter, r *http.Request) error {
		req, err := request(r)
		if err != nil {
			return err
		}
		ex, err := s.Explain(r.Context(), req)
		return answerObject(w, r, http.StatusOK, toWireExplanation(ex), err)
	})
}

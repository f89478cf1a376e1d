package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification/otpprocess"
)

// processRoutes registers the OTP identification routes (RULES.md §D): the organisation's
// admin routes, and the actor's metadata and validate routes. Every route is scoped by
// {org_id}: another organisation's process answers 404.
func (h *Handler) processRoutes(s *otpprocess.Service) {
	const base = "/v1/orgs/{org_id}/identifications/otp"
	one := func(r *http.Request) otpprocess.Request {
		return otpprocess.Request{Token: bearer(r), OrgID: r.PathValue("org_id"), ID: r.PathValue("id")}
	}
	h.handle("POST", base, func(w http.ResponseWriter, r *http.Request) error {
		var b createProcessBody
		if err := h.decodeJSON(r, &b, false); err != nil {
			return asBadRequest(err)
		}
		res, err := s.Create(r.Context(), otpprocess.CreateRequest{
			Token: bearer(r), OrgID: r.PathValue("org_id"), Actor: b.Actor.domain(), ExpiresIn: b.ExpiresIn,
			TwoFactorType: b.TwoFactorType, Channel: otpprocess.Channel{Type: b.Channel.Type, External: b.Channel.External},
		})
		return h.answerProcess(w, http.StatusCreated, res.Process, res.Code, asBadRequest(err))
	})
	h.handle("GET", base, func(w http.ResponseWriter, r *http.Request) error {
		req := otpprocess.ListRequest{Token: bearer(r), OrgID: r.PathValue("org_id")}
		q := r.URL.Query()
		for _, st := range q["status"] {
			req.States = append(req.States, otpprocess.State(st))
		}
		var v verifykit.Validation
		req.Offset = queryInt(&v, q.Get("offset"), "offset")
		req.Limit = queryInt(&v, q.Get("limit"), "limit")
		if err := v.Err(); err != nil {
			return asBadRequest(err)
		}
		res, err := s.List(r.Context(), req)
		if err != nil {
			return asBadRequest(asQueryParameters(err, map[string]string{"$.offset": "offset", "$.limit": "limit"}, "$.states[", "status"))
		}
		return answer(w, http.StatusOK, toWireProcessList(res), nil)
	})
	h.handle("GET", base+"/{id}/details", func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.Get(r.Context(), one(r))
		return h.answerProcess(w, http.StatusOK, res, "", err)
	})
	h.handle("POST", base+"/{id}/resend", func(w http.ResponseWriter, r *http.Request) error {
		if err := h.decodeJSON(r, &struct{}{}, true); err != nil {
			return asBadRequest(err)
		}
		res, err := s.Resend(r.Context(), one(r))
		if err != nil {
			return err
		}
		if res.Code != "" { // external channel: the organisation delivers the new code
			return h.answerProcess(w, http.StatusOK, res.Process, res.Code, nil)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	h.handle("POST", base+"/{id}/cancel", func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			Reason string `json:"reason"`
		}
		if err := h.decodeJSON(r, &b, false); err != nil {
			return asBadRequest(err)
		}
		req := one(r)
		_, err := s.Cancel(r.Context(), otpprocess.CancelRequest{Token: req.Token, OrgID: req.OrgID, ID: req.ID, Reason: b.Reason})
		return noContent(w, asBadRequest(err))
	})
	h.handle("DELETE", base+"/{id}", func(w http.ResponseWriter, r *http.Request) error {
		force := false
		switch v := r.URL.Query().Get("force"); v {
		case "", "false":
		case "true":
			force = true
		default:
			return verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
				Entry: "force", EntryType: verifykit.EntryQueryParameter, Rule: "inclusion", Description: "must be true or false",
			})
		}
		req := one(r)
		_, err := s.Delete(r.Context(), otpprocess.DeleteRequest{Token: req.Token, OrgID: req.OrgID, ID: req.ID, Force: force})
		return noContent(w, err)
	})
	h.handle("GET", base+"/{id}", func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.Metadata(r.Context(), one(r))
		if err != nil {
			return err
		}
		h.writeAppender(w, http.StatusOK, toWireProcessMetadata(res))
		return nil
	})
	h.handle("PUT", base+"/{id}/validate", func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			Code      string `json:"code"`
			TwoFactor string `json:"two_factor"`
		}
		if err := h.decodeJSON(r, &b, false); err != nil {
			return asBadRequest(err)
		}
		req := one(r)
		_, err := s.Validate(r.Context(), otpprocess.ValidateRequest{Token: req.Token, OrgID: req.OrgID, ID: req.ID, Code: b.Code, TwoFactor: b.TwoFactor})
		if judgesCode(err) {
			return err
		}
		return noContent(w, asBadRequest(err))
	})
}

// answerProcess answers code with the process p (with its one-time code otpCode, for an
// external channel), or returns err.
func (h *Handler) answerProcess(w http.ResponseWriter, code int, p otpprocess.Process, otpCode string, err error) error {
	if err != nil {
		return err
	}
	h.writeAppender(w, code, toWireProcess(p, otpCode))
	return nil
}

// asBadRequest answers malformed input of the OTP identification API with 400
// (bad_request), as its specification does (RULES.md §D), rather than the 422 of invalid
// input elsewhere: the domain answers KindInvalidInput, and this is the one place that
// decides the status. The routes apply it to what they decode and to the answers of
// create, list, cancel and validate; on validate, the answers about the code the actor
// typed stay 422 (see judgesCode). Every other error passes unchanged.
func asBadRequest(err error) error {
	var ve *verifykit.Error
	if !errors.As(err, &ve) || ve.Kind != verifykit.KindInvalidInput {
		return err
	}
	e := *ve
	e.Kind = verifykit.KindBadRequest
	return &e
}

// judgesCode reports whether err is the answer to the code of a validation, which stays
// 422 like the answer to a code in every flow (RULES.md §F): a missing or malformed code
// (the entry "$.code"), or a code or second factor that failed its verification (the rule
// "verification": wrong, expired, used, blocked).
func judgesCode(err error) bool {
	var ve *verifykit.Error
	return errors.As(err, &ve) && ve.Kind == verifykit.KindInvalidInput && slices.ContainsFunc(ve.Invalid, func(in verifykit.InvalidEntry) bool {
		return in.Entry == "$.code" || in.Rule == "verification"
	})
}

// noContent answers 204, or returns err.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// queryInt parses an optional integer query parameter, recording a bad one in v.
func queryInt(v *verifykit.Validation, raw, name string) int {
	if raw == "" {
		return 0
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		v.AddEntry(verifykit.InvalidEntry{Entry: name, EntryType: verifykit.EntryQueryParameter, Rule: "cast", Description: "must be an integer"})
	}
	return n
}

// asQueryParameters renames the invalid entries of err that the domain names as JSON paths
// (byName, and any starting with listPrefix, e.g. "$.states[2]", as listName) to the query
// parameters the route reads them from, with entry_type "query_parameter".
func asQueryParameters(err error, byName map[string]string, listPrefix, listName string) error {
	var ve *verifykit.Error
	if !errors.As(err, &ve) || len(ve.Invalid) == 0 {
		return err
	}
	out := *ve
	out.Invalid = slices.Clone(ve.Invalid)
	for i, in := range out.Invalid {
		name, ok := byName[in.Entry]
		if !ok && strings.HasPrefix(in.Entry, listPrefix) {
			name, ok = listName, true
		}
		if ok {
			out.Invalid[i].Entry, out.Invalid[i].EntryType = name, verifykit.EntryQueryParameter
		}
	}
	return &out
}

package httpapi

import (
	"net/http"

	"github.com/verifykit/verifykit/identification"
)

// profileRoutes registers the SDK.Finance profile identification routes (RULES.md §C).
// Answers are the wire types of profile_wire.go: the profile shape of the seed, with
// "status":"ok".
func (h *Handler) profileRoutes(s *identification.ProfileService) {
	const base = "/api/v1/profiles"
	h.handle("GET", base+"/my", func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.MyProfile(r.Context(), identification.MyProfileRequest{Token: bearer(r)})
		return answer(w, http.StatusOK, toWireProfileResult(res), err)
	})
	h.handle("PATCH", base+"/my", func(w http.ResponseWriter, r *http.Request) error {
		var b updateProfileBody
		if err := h.decodeJSON(r, &b, false); err != nil {
			return err
		}
		res, err := s.UpdateProfile(r.Context(), b.domain(bearer(r)))
		return answer(w, http.StatusOK, toWireProfileResult(res), err)
	})
	h.handle("POST", base+"/my/submit-identification", func(w http.ResponseWriter, r *http.Request) error {
		if err := h.decodeJSON(r, &struct{}{}, true); err != nil {
			return err
		}
		res, err := s.SubmitIdentification(r.Context(), identification.SubmitIdentificationRequest{Token: bearer(r)})
		return answer(w, http.StatusOK, toWireProfileResult(res), err)
	})
	h.handle("POST", base+"/my/reset-identification", func(w http.ResponseWriter, r *http.Request) error {
		var b askForResetBody
		if err := h.decodeJSON(r, &b, true); err != nil {
			return err
		}
		res, err := s.AskForReset(r.Context(), identification.AskForResetRequest{Token: bearer(r), Description: b.Description})
		return answer(w, http.StatusCreated, toWireResetRequestResult(res), err)
	})
	h.handle("POST", base+"/view-reset-identification-requests", func(w http.ResponseWriter, r *http.Request) error {
		var b viewResetRequestsBody
		if err := h.decodeJSON(r, &b, false); err != nil {
			return err
		}
		res, err := s.ViewResetRequests(r.Context(), b.domain(bearer(r)))
		return answer(w, http.StatusOK, toWireResetRequestPage(res), err)
	})
	decide := func(approve bool) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if err := h.decodeJSON(r, &struct{}{}, true); err != nil {
				return err
			}
			req := identification.DecideResetRequest{Token: bearer(r), UserID: r.PathValue("userId"), RequestID: r.PathValue("reqId")}
			var res identification.ResetRequestResult
			var err error
			if approve {
				res, err = s.ApproveResetRequest(r.Context(), req)
			} else {
				res, err = s.DeclineResetRequest(r.Context(), req)
			}
			return answer(w, http.StatusOK, toWireResetRequestResult(res), err)
		}
	}
	h.handle("POST", base+"/{userId}/reset-identification-requests/{reqId}/approve", decide(true))
	h.handle("POST", base+"/{userId}/reset-identification-requests/{reqId}/decline", decide(false))
	h.handle("POST", base+"/{id}/reset", func(w http.ResponseWriter, r *http.Request) error {
		var b resetIdentificationBody
		if err := h.decodeJSON(r, &b, false); err != nil {
			return err
		}
		res, err := s.ResetIdentification(r.Context(), identification.ResetIdentificationRequest{
			Token: bearer(r), UserID: r.PathValue("id"), Fields: b.Fields,
		})
		return answer(w, http.StatusOK, toWireResetIdentificationResult(res), err)
	})
	h.handle("POST", base+"/{id}/identification-status", func(w http.ResponseWriter, r *http.Request) error {
		var b setIdentificationStatusBody
		if err := h.decodeJSON(r, &b, false); err != nil {
			return err
		}
		res, err := s.SetIdentificationStatus(r.Context(), identification.SetIdentificationStatusRequest{
			Token: bearer(r), UserID: r.PathValue("id"), Status: b.Status,
		})
		return answer(w, http.StatusOK, toWireProfileResult(res), err)
	})
}

// answer writes res as JSON with code, or returns err for the Handler to answer.
func answer(w http.ResponseWriter, code int, res any, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, code, res)
	return nil
}

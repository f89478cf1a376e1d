package httpapi

import (
	"net/http"

	"github.com/verifykit/verifykit/identification"
)

// profileRoutes registers the SDK.Finance profile identification routes (RULES.md §C).
// Answers are the service results as they are: the profile shape of the seed, with
// "status":"ok".
func (h *Handler) profileRoutes(s *identification.ProfileService) {
	const base = "/api/v1/profiles"
	h.handle("GET", base+"/my", func(w http.ResponseWriter, r *http.Request) error {
		res, err := s.MyProfile(r.Context(), identification.MyProfileRequest{Token: bearer(r)})
		return answer(w, http.StatusOK, res, err)
	})
	h.handle("PATCH", base+"/my", func(w http.ResponseWriter, r *http.Request) error {
		var req identification.UpdateProfileRequest
		if err := decodeJSON(r, &req, false); err != nil {
			return err
		}
		req.Token = bearer(r)
		res, err := s.UpdateProfile(r.Context(), req)
		return answer(w, http.StatusOK, res, err)
	})
	h.handle("POST", base+"/my/submit-identification", func(w http.ResponseWriter, r *http.Request) error {
		if err := decodeJSON(r, &struct{}{}, true); err != nil {
			return err
		}
		res, err := s.SubmitIdentification(r.Context(), identification.SubmitIdentificationRequest{Token: bearer(r)})
		return answer(w, http.StatusOK, res, err)
	})
	h.handle("POST", base+"/my/reset-identification", func(w http.ResponseWriter, r *http.Request) error {
		var req identification.AskForResetRequest
		if err := decodeJSON(r, &req, true); err != nil {
			return err
		}
		req.Token = bearer(r)
		res, err := s.AskForReset(r.Context(), req)
		return answer(w, http.StatusCreated, res, err)
	})
	h.handle("POST", base+"/view-reset-identification-requests", func(w http.ResponseWriter, r *http.Request) error {
		var req identification.ViewResetRequestsRequest
		if err := decodeJSON(r, &req, false); err != nil {
			return err
		}
		req.Token = bearer(r)
		res, err := s.ViewResetRequests(r.Context(), req)
		return answer(w, http.StatusOK, res, err)
	})
	decide := func(approve bool) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error {
			if err := decodeJSON(r, &struct{}{}, true); err != nil {
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
			return answer(w, http.StatusOK, res, err)
		}
	}
	h.handle("POST", base+"/{userId}/reset-identification-requests/{reqId}/approve", decide(true))
	h.handle("POST", base+"/{userId}/reset-identification-requests/{reqId}/decline", decide(false))
	h.handle("POST", base+"/{id}/reset", func(w http.ResponseWriter, r *http.Request) error {
		var req identification.ResetIdentificationRequest
		if err := decodeJSON(r, &req, false); err != nil {
			return err
		}
		req.Token, req.UserID = bearer(r), r.PathValue("id")
		res, err := s.ResetIdentification(r.Context(), req)
		return answer(w, http.StatusOK, res, err)
	})
	h.handle("POST", base+"/{id}/identification-status", func(w http.ResponseWriter, r *http.Request) error {
		var req identification.SetIdentificationStatusRequest
		if err := decodeJSON(r, &req, false); err != nil {
			return err
		}
		req.Token, req.UserID = bearer(r), r.PathValue("id")
		res, err := s.SetIdentificationStatus(r.Context(), req)
		return answer(w, http.StatusOK, res, err)
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

package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

// personRequestLookupData is the person request lookup page's data.
type personRequestLookupData struct{ ID string }

// personRequestLookup asks for a person request id and goes to its page. The domain has no
// list of person requests: an operator names the request.
func (h *Handler) personRequestLookup(w http.ResponseWriter, r *http.Request, op operator) {
	if id := strings.TrimSpace(r.URL.Query().Get("id")); id != "" {
		http.Redirect(w, r, h.link("person-requests", id), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "person_request_lookup", &op, nil, personRequestLookupData{})
}

// uploadView is one upload link of a person request and whether it is still current.
type uploadView struct {
	Type string
	// State is "current", "stale" (replaced, expired, or the request is no longer NEW)
	// or "unknown" (the check failed).
	State string
}

// personRequestData is the person request page's data.
type personRequestData struct {
	Done    string
	ID      string
	Request personrequest.Request
	Shown   bool
	Uploads []uploadView
}

// personRequestPage shows a person request: status, masked phones, methods, upload links.
func (h *Handler) personRequestPage(w http.ResponseWriter, r *http.Request, op operator) {
	h.showPersonRequest(w, r, op, r.PathValue("id"), notice(r), nil)
}

// showPersonRequest renders request id; with actionErr (a refused resend) the page shows
// that error, with its status.
func (h *Handler) showPersonRequest(w http.ResponseWriter, r *http.Request, op operator, id, done string, actionErr error) {
	d := personRequestData{Done: done, ID: id}
	req, err := h.svc.PersonRequests.Get(r.Context(), personrequest.GetRequest{Token: op.token, ID: id})
	if err == nil {
		d.Request, d.Shown = req, true
		for _, u := range req.Urgent.Documents {
			state := "stale"
			ok, verr := h.svc.PersonRequests.UploadURLValid(r.Context(), req.ID, u.URL)
			switch {
			case verr != nil:
				state = "unknown"
				h.logUnexpected(r.Context(), verr)
			case ok:
				state = "current"
			}
			d.Uploads = append(d.Uploads, uploadView{Type: u.Type, State: state})
		}
	}
	if actionErr != nil {
		err = actionErr
	}
	h.render(w, r, 0, "person_request", &op, err, d)
}

// resendPersonRequest sends a new code through the method of the alias chosen (the
// primary when none is).
func (h *Handler) resendPersonRequest(w http.ResponseWriter, r *http.Request, op operator) {
	parseForm(w, r)
	id := r.PathValue("id")
	_, err := h.svc.PersonRequests.ResendAuthMethod(r.Context(), personrequest.ResendRequest{
		Token: op.token, ID: id, Alias: r.PostFormValue("alias"),
	})
	if err != nil {
		h.showPersonRequest(w, r, op, id, "", err)
		return
	}
	http.Redirect(w, r, h.link("person-requests", id)+"?done=resent", http.StatusSeeOther)
}

// processPageSize is how many processes a page of the list shows.
const processPageSize = 20

// processesData is the process list page's data.
type processesData struct {
	Done string
	// OrgID, State and Offset are the query as asked (OrgID defaults to the token's
	// organisation), for the form.
	OrgID, State, Offset string
	States               []option
	Result               otpprocess.ListResult
	Shown                bool
	Prev, Next           string
}

// orgOf returns the organisation a process page acts for: the org_id asked, else the
// organisation of the operator's token. The service checks that the token belongs to it.
func orgOf(v url.Values, op operator) string {
	if org := strings.TrimSpace(v.Get("org_id")); org != "" {
		return org
	}
	return op.claims.OrgID
}

// processStates returns the states of the list's filter, "" for all.
func processStates() []option {
	out := []option{{"", "Any state"}}
	for _, st := range []otpprocess.State{
		otpprocess.StateCreated, otpprocess.StateValidated, otpprocess.StateCancelled,
		otpprocess.StateExpired, otpprocess.StateBlocked,
	} {
		out = append(out, option{string(st), string(st)})
	}
	return out
}

// processList shows the processes of an organisation, by state, a page at a time.
func (h *Handler) processList(w http.ResponseWriter, r *http.Request, op operator) {
	q := r.URL.Query()
	d := processesData{Done: notice(r), OrgID: orgOf(q, op), State: q.Get("state"), Offset: q.Get("offset"), States: processStates()}
	req := otpprocess.ListRequest{Token: op.token, OrgID: d.OrgID, Offset: atoiOr(d.Offset, 0, -1), Limit: processPageSize}
	if d.State != "" {
		req.States = []otpprocess.State{otpprocess.State(d.State)}
	}
	res, err := h.svc.Processes.List(r.Context(), req)
	if err == nil {
		d.Result, d.Shown = res, true
		here := url.Values{"org_id": {d.OrgID}, "state": {d.State}}
		if req.Offset > 0 {
			here.Set("offset", strconv.Itoa(max(req.Offset-processPageSize, 0)))
			d.Prev = h.base + "processes?" + here.Encode()
		}
		if req.Offset+len(res.Processes) < res.Total {
			here.Set("offset", strconv.Itoa(req.Offset+len(res.Processes)))
			d.Next = h.base + "processes?" + here.Encode()
		}
	}
	h.render(w, r, 0, "processes", &op, err, d)
}

// processView is a process as its page shows it: contact data masked, no document number.
type processView struct {
	otpprocess.Process
	MaskedPhone, MaskedEmail string
}

// processData is the process page's data.
type processData struct {
	Done    string
	OrgID   string
	ID      string
	Process processView
	Shown   bool
	// Reason and Force are the form's values after a refused action.
	Reason string
	Force  bool
}

// processPage shows a process, with the forms to cancel and delete it.
func (h *Handler) processPage(w http.ResponseWriter, r *http.Request, op operator) {
	h.showProcess(w, r, op, processData{Done: notice(r), OrgID: orgOf(r.URL.Query(), op), ID: r.PathValue("id")}, nil)
}

// showProcess renders the process of d; with actionErr (a refused cancel or delete) the
// page shows that error, with its status.
func (h *Handler) showProcess(w http.ResponseWriter, r *http.Request, op operator, d processData, actionErr error) {
	p, err := h.svc.Processes.Get(r.Context(), otpprocess.Request{Token: op.token, OrgID: d.OrgID, ID: d.ID})
	if err == nil {
		d.Process, d.Shown = processView{Process: p, MaskedPhone: ports.MaskPhone(p.Actor.MSISDN.E164()), MaskedEmail: ports.MaskEmail(p.Actor.Email)}, true
	}
	if actionErr != nil {
		err = actionErr
	}
	h.render(w, r, 0, "process", &op, err, d)
}

// processLink is the URL of a process page of organisation org.
func (h *Handler) processLink(org, id, done string) string {
	v := url.Values{"org_id": {org}}
	if done != "" {
		v.Set("done", done)
	}
	return h.link("processes", id) + "?" + v.Encode()
}

// cancelProcess cancels a process with the reason given.
func (h *Handler) cancelProcess(w http.ResponseWriter, r *http.Request, op operator) {
	parseForm(w, r)
	d := processData{OrgID: orgOf(r.PostForm, op), ID: r.PathValue("id"), Reason: r.PostFormValue("reason")}
	_, err := h.svc.Processes.Cancel(r.Context(), otpprocess.CancelRequest{Token: op.token, OrgID: d.OrgID, ID: d.ID, Reason: d.Reason})
	if err != nil {
		h.showProcess(w, r, op, d, err)
		return
	}
	http.Redirect(w, r, h.processLink(d.OrgID, d.ID, "cancelled"), http.StatusSeeOther)
}

// deleteProcess deletes a process, with force when ticked.
func (h *Handler) deleteProcess(w http.ResponseWriter, r *http.Request, op operator) {
	parseForm(w, r)
	d := processData{OrgID: orgOf(r.PostForm, op), ID: r.PathValue("id")}
	d.Force, _ = strconv.ParseBool(r.PostFormValue("force"))
	_, err := h.svc.Processes.Delete(r.Context(), otpprocess.DeleteRequest{Token: op.token, OrgID: d.OrgID, ID: d.ID, Force: d.Force})
	if err != nil {
		h.showProcess(w, r, op, d, err)
		return
	}
	http.Redirect(w, r, h.base+"processes?"+url.Values{"org_id": {d.OrgID}, "done": {"deleted"}}.Encode(), http.StatusSeeOther)
}

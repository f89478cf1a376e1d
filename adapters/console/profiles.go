package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/ports"
)

// maxFormBytes bounds the body of every form the console accepts.
const maxFormBytes = 64 << 10

// parseForm reads a POSTed form, at most maxFormBytes.
func parseForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	_ = r.ParseForm() // a body too large or malformed leaves the fields empty: the domain names them
}

// signInData is the sign-in page's data.
type signInData struct{ Done string }

// homeData is the start page's data.
type homeData struct{ Done string }

// home is the start page: what the console offers.
func (h *Handler) home(w http.ResponseWriter, r *http.Request, op operator) {
	h.render(w, r, http.StatusOK, "home", &op, nil, homeData{Done: notice(r)})
}

// option is one choice of a select element.
type option struct{ Value, Label string }

// resetQueryKeys returns the query parameters of the reset requests page.
func resetQueryKeys() []string { return []string{"status", "org", "sort", "order", "page", "size"} }

// resetRequestsData is the reset requests page's data.
type resetRequestsData struct {
	Done string
	// Status, Org, Sort, Order, Page and Size are the query as asked, for the form.
	Status, Org, Sort, Order, Page, Size string
	Statuses, SortFields, Orders, Sizes  []option
	// Result is the page the service answered; Shown tells whether it answered one.
	Result identification.ViewResetRequestsResult
	Shown  bool
	// Prev and Next link to the neighbouring pages, "" when there is none.
	Prev, Next string
	// Return is the query of this page, which the decision forms carry back.
	Return string
}

// resetRequests shows a page of reset identification requests: PENDING ones unless the
// query asks for another status.
func (h *Handler) resetRequests(w http.ResponseWriter, r *http.Request, op operator) {
	h.showResetRequests(w, r, op, r.URL.Query(), notice(r), nil)
}

// showResetRequests renders the reset requests of query q; with actionErr (a refused
// decision) the page shows that error, with its status.
func (h *Handler) showResetRequests(w http.ResponseWriter, r *http.Request, op operator, q url.Values, done string, actionErr error) {
	d := resetRequestsData{
		Done: done, Status: string(ports.ResetRequestPending), Org: q.Get("org"),
		Sort: q.Get("sort"), Order: q.Get("order"), Page: q.Get("page"), Size: q.Get("size"),
		Statuses: []option{
			{string(ports.ResetRequestPending), "Pending"}, {string(ports.ResetRequestApproved), "Approved"},
			{string(ports.ResetRequestDeclined), "Declined"}, {"", "Any status"},
		},
		SortFields: []option{
			{"createdAt", "Created"}, {"userId", "User"}, {"status", "Status"}, {"organizationId", "Organisation"},
		},
		Orders: []option{{"asc", "Ascending"}, {"desc", "Descending"}},
		Sizes:  []option{{"10", "10"}, {"20", "20"}, {"50", "50"}, {"100", "100"}},
	}
	if q.Has("status") {
		d.Status = q.Get("status")
	}
	if d.Sort == "" {
		d.Sort = "createdAt"
	}
	if d.Order == "" {
		d.Order = "asc"
	}
	if d.Size == "" {
		d.Size = "20"
	}
	page, size := atoiOr(d.Page, 0, -1), atoiOr(d.Size, 20, 0) // what cannot be a number, the service refuses
	req := identification.ViewResetRequestsRequest{
		Token:      op.token,
		Filter:     identification.ResetRequestFilter{Status: ports.ResetRequestStatus(d.Status), OrganizationID: d.Org},
		PageNumber: page, PageSize: size,
	}
	switch d.Sort {
	case "userId":
		req.Sort.UserID = d.Order
	case "status":
		req.Sort.Status = d.Order
	case "organizationId":
		req.Sort.OrganizationID = d.Order
	default:
		d.Sort, req.Sort.CreatedAt = "createdAt", d.Order
	}
	res, err := h.svc.Profiles.ViewResetRequests(r.Context(), req)
	if err == nil {
		d.Result, d.Shown = res, true
		here := url.Values{
			"status": {d.Status}, "org": {d.Org}, "sort": {d.Sort}, "order": {d.Order},
			"page": {strconv.Itoa(page)}, "size": {strconv.Itoa(size)},
		}
		d.Return = here.Encode()
		if page > 0 {
			here.Set("page", strconv.Itoa(min(page-1, max(res.TotalPages-1, 0))))
			d.Prev = h.base + "reset-requests?" + here.Encode()
		}
		if page+1 < res.TotalPages {
			here.Set("page", strconv.Itoa(page+1))
			d.Next = h.base + "reset-requests?" + here.Encode()
		}
	}
	if actionErr != nil {
		err = actionErr
	}
	h.render(w, r, 0, "reset_requests", &op, err, d)
}

// atoiOr parses s as an int: empty is def, anything else that is not a number is bad.
func atoiOr(s string, def, bad int) int {
	if strings.TrimSpace(s) == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return bad
	}
	return n
}

// returnQuery keeps of the form's "return" value the reset requests page's own parameters.
func returnQuery(raw string) url.Values {
	in, _ := url.ParseQuery(raw)
	out := url.Values{}
	for _, k := range resetQueryKeys() {
		if in.Has(k) {
			out.Set(k, in.Get(k))
		}
	}
	return out
}

// decideResetRequest approves or declines a reset request, then shows the list it was on.
func (h *Handler) decideResetRequest(w http.ResponseWriter, r *http.Request, op operator) {
	parseForm(w, r)
	req := identification.DecideResetRequest{Token: op.token, UserID: r.PathValue("userID"), RequestID: r.PathValue("reqID")}
	var err error
	done := r.PathValue("decision") + "d" // approved, declined
	switch r.PathValue("decision") {
	case "approve":
		_, err = h.svc.Profiles.ApproveResetRequest(r.Context(), req)
	case "decline":
		_, err = h.svc.Profiles.DeclineResetRequest(r.Context(), req)
	default:
		h.notFound(w, r)
		return
	}
	back := returnQuery(r.PostFormValue("return"))
	if err != nil {
		h.showResetRequests(w, r, op, back, "", err)
		return
	}
	back.Set("done", done)
	http.Redirect(w, r, h.base+"reset-requests?"+back.Encode(), http.StatusSeeOther)
}

// profileLookupData is the profile lookup page's data.
type profileLookupData struct{ UserID string }

// profileLookup asks for a user id and goes to that user's profile page.
func (h *Handler) profileLookup(w http.ResponseWriter, r *http.Request, op operator) {
	if id := strings.TrimSpace(r.URL.Query().Get("user")); id != "" {
		http.Redirect(w, r, h.link("profiles", id), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "profile_lookup", &op, nil, profileLookupData{})
}

// fieldGroup is the resettable fields of one block of the profile ("person", "contact", ...).
type fieldGroup struct {
	Name   string
	Fields []fieldOption
}

// fieldOption is one resettable field of the checklist.
type fieldOption struct {
	Path    string
	Checked bool
}

// profileData is the profile page's data: the profile as the operator may read it (nil
// when it could not be read), and the reset form.
type profileData struct {
	UserID  string
	Profile *identification.ProfileResult
	Groups  []fieldGroup
}

// groups returns the resettable fields by block, those of checked ticked.
func (h *Handler) groups(checked []string) []fieldGroup {
	var out []fieldGroup
	for _, p := range h.fields {
		block, _, _ := strings.Cut(p, ".")
		if len(out) == 0 || out[len(out)-1].Name != block {
			out = append(out, fieldGroup{Name: block})
		}
		g := &out[len(out)-1]
		g.Fields = append(g.Fields, fieldOption{Path: p, Checked: slices.Contains(checked, p)})
	}
	return out
}

// profilePage shows a user's profile with its identification status, its mandatory and
// pending fields, and the reset form: the resettable fields as a checklist. A profile the
// operator may not read (another organisation's, or none) answers as the domain does.
func (h *Handler) profilePage(w http.ResponseWriter, r *http.Request, op operator) {
	userID := r.PathValue("userID")
	res, err := h.svc.Profiles.Profile(r.Context(), identification.ProfileRequest{Token: op.token, UserID: userID})
	if err != nil {
		h.render(w, r, 0, "error", &op, err, nil)
		return
	}
	h.render(w, r, http.StatusOK, "profile", &op, nil, profileData{UserID: userID, Profile: &res, Groups: h.groups(nil)})
}

// resetResultData is the page of a reset done.
type resetResultData struct {
	UserID string
	Result identification.ResetIdentificationResult
}

// resetProfile resets the identification of a user's profile with the fields ticked.
func (h *Handler) resetProfile(w http.ResponseWriter, r *http.Request, op operator) {
	parseForm(w, r)
	userID := r.PathValue("userID")
	fields := r.PostForm["field"]
	res, err := h.svc.Profiles.ResetIdentification(r.Context(), identification.ResetIdentificationRequest{
		Token: op.token, UserID: userID, Fields: fields,
	})
	if err != nil {
		data := profileData{UserID: userID, Groups: h.groups(fields)}
		if res, perr := h.svc.Profiles.Profile(r.Context(), identification.ProfileRequest{Token: op.token, UserID: userID}); perr == nil {
			data.Profile = &res
		}
		h.render(w, r, 0, "profile", &op, err, data)
		return
	}
	h.render(w, r, http.StatusOK, "reset_result", &op, nil, resetResultData{UserID: userID, Result: res})
}

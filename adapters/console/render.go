package console

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/adapters/internal/httpstatus"
	"github.com/verifykit/verifykit/ports"
)

// pageTemplate is one page: the layout with the page's "content".
type pageTemplate struct{ t *template.Template }

// parsePages parses every page with the layout and the template functions of h.
func parsePages(h *Handler) (map[string]*pageTemplate, error) {
	funcs := template.FuncMap{
		"link": h.link,
		"when": when,
		"mask": ports.MaskRecipient,
		"inc":  func(n int) int { return n + 1 },
	}
	// The pages, each templates/<name>.html.
	names := []string{
		"signin", "home", "error", "reset_requests", "profile_lookup", "profile", "reset_result",
		"person_request_lookup", "person_request", "processes", "process",
	}
	out := make(map[string]*pageTemplate, len(names))
	for _, name := range names {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		out[name] = &pageTemplate{t: t}
	}
	return out, nil
}

// link returns the console URL of path segments, each escaped as one segment, e.g.
// link "profiles" "user/1" is "<base>profiles/user%2F1".
func (h *Handler) link(segments ...string) string {
	var b strings.Builder
	b.WriteString(h.base)
	for i, s := range segments {
		if i > 0 {
			b.WriteByte('/')
		}
		switch s {
		case ".", "..": // PathEscape leaves them: a browser would resolve them away
			b.WriteString(strings.Repeat("%2E", len(s)))
		default:
			b.WriteString(url.PathEscape(s))
		}
	}
	return b.String()
}

// when formats a time for people, "—" when it is zero.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// view is what every page template gets: the layout's data and the page's own.
type view struct {
	Title    string
	Base     string
	CSS      string
	Nav      nav
	Operator *operatorView
	Error    *errorView
	Data     any
}

// nav says which pages the console has.
type nav struct {
	Profiles, PersonRequests, Processes bool
}

// operatorView is the signed-in operator as the header shows it.
type operatorView struct {
	Subject string
	OrgID   string
}

// errorView is a refusal as the page shows it: the *verifykit.Error's message and invalid
// entries, as the HTTP API answers them.
type errorView struct {
	Status  int
	Message string
	Invalid []verifykit.InvalidEntry
	// RetryAfter is the wait of a rate limit, in whole seconds; 0 when none.
	RetryAfter int64
}

// statusOf returns the HTTP status of an error's kind, the one the HTTP API answers.
func statusOf(k verifykit.Kind) int {
	code, _ := httpstatus.Of(k)
	return code
}

// toErrorView turns err into what a page shows of it. Errors that are no *verifykit.Error,
// or of KindInternal, show a generic message only.
func toErrorView(err error) *errorView {
	var ve *verifykit.Error
	if !errors.As(err, &ve) || verifykit.KindOf(ve) == verifykit.KindInternal {
		return &errorView{Status: http.StatusInternalServerError, Message: "Internal server error."}
	}
	ev := &errorView{Status: statusOf(ve.Kind), Message: ve.Message, Invalid: ve.Invalid}
	if ve.RetryAfter > 0 {
		ev.RetryAfter = httpstatus.RetryAfterSeconds(ve.RetryAfter)
	}
	return ev
}

// render writes page with data. With err, the page shows the error, with the error's
// status when status is 0; without, it answers status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, op *operator, err error, data any) {
	v := view{
		Title: h.title, Base: h.base, CSS: h.css, Data: data,
		Nav: nav{Profiles: h.svc.Profiles != nil, PersonRequests: h.svc.PersonRequests != nil, Processes: h.svc.Processes != nil},
	}
	if op != nil {
		v.Operator = &operatorView{Subject: op.claims.Subject, OrgID: op.claims.OrgID}
	}
	if err != nil {
		h.logUnexpected(r.Context(), err)
		v.Error = toErrorView(err)
		if status == 0 {
			status = v.Error.Status
		}
		if v.Error.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.FormatInt(v.Error.RetryAfter, 10))
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	var buf bytes.Buffer
	if xerr := h.pages[page].t.ExecuteTemplate(&buf, "layout", v); xerr != nil {
		h.log.ErrorContext(r.Context(), "console: page not rendered", "page", page, "error", xerr.Error())
		http.Error(w, "Internal server error.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError answers a page that is only the error.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, op *operator, err error) {
	h.render(w, r, 0, "error", op, err, nil)
}

// notice returns the message a page shows after a form succeeded, by the "done" query
// parameter of the redirect: a fixed text, never one taken from the URL; "" for none.
func notice(r *http.Request) string {
	switch r.URL.Query().Get("done") {
	case "signedout":
		return "Signed out."
	case "approved":
		return "Reset request approved."
	case "declined":
		return "Reset request declined."
	case "resent":
		return "A new code was sent: every older code and upload link of the request stopped being valid."
	case "cancelled":
		return "Process cancelled."
	case "deleted":
		return "Process deleted."
	}
	return ""
}

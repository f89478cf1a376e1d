package console

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/verifykit/verifykit"
	"github.com/verifykit/verifykit/identification"
	"github.com/verifykit/verifykit/identification/otpprocess"
	"github.com/verifykit/verifykit/internal/authz"
	"github.com/verifykit/verifykit/personrequest"
	"github.com/verifykit/verifykit/ports"
)

//go:embed templates/*.html static/console.css
var assets embed.FS

// cookieName is the cookie that keeps the operator's token (base64url-encoded, so that any
// token is a valid cookie value).
const cookieName = "verifykit_console"

// DefaultBasePath is the base path of Options.BasePath when none is given.
const DefaultBasePath = "/console/"

// contentSecurityPolicy allows the console's own style sheet, forms posted to itself, and
// nothing else: no script at all, no framing.
const contentSecurityPolicy = "default-src 'self'; style-src 'self'; img-src 'self'; script-src 'none'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// Services are the domain services the console drives. A nil service leaves its pages out
// of the console; at least one is required.
type Services struct {
	// Profiles serves the reset identification requests and the profile reset pages.
	Profiles *identification.ProfileService
	// Processes serves the OTP identification process pages.
	Processes *otpprocess.Service
	// PersonRequests serves the person request pages.
	PersonRequests *personrequest.Service
}

// Options configure the console.
type Options struct {
	// BasePath is the path the host mounts the handler under; it starts and ends with "/".
	// Every link, form and the cookie's Path are under it. Default DefaultBasePath.
	BasePath string
	// Tokens verifies the tokens operators sign in with: the verifier the services were
	// built with. Required.
	Tokens ports.TokenVerifier
	// Clock tells the time a signed-in token is checked against (its expiry); use the
	// services' clock. Default ports.SystemClock.
	Clock ports.Clock
	// Logger receives sign-ins (token subjects only, never tokens) and unexpected errors.
	// Default: discard.
	Logger *slog.Logger
	// Title is the name in the pages' header. Default "verifykit console".
	Title string
}

// Handler is the operator console, an http.Handler to mount under Options.BasePath. It is
// safe for concurrent use.
type Handler struct {
	base   string
	title  string
	svc    Services
	tokens ports.TokenVerifier
	clock  ports.Clock
	log    *slog.Logger
	pages  map[string]*pageTemplate
	fields []string // the resettable profile field paths, sorted
	css    string   // the style sheet's URL, versioned by its content
	next   http.Handler
}

// New checks svc and opts and returns the console.
func New(svc Services, opts Options) (*Handler, error) {
	var v verifykit.Validation
	bad := func(field, rule, desc string) {
		v.AddEntry(verifykit.InvalidEntry{Entry: field, EntryType: verifykit.EntryConfig, Rule: rule, Description: desc})
	}
	if opts.BasePath == "" {
		opts.BasePath = DefaultBasePath
	}
	if !strings.HasPrefix(opts.BasePath, "/") || !strings.HasSuffix(opts.BasePath, "/") ||
		strings.ContainsAny(opts.BasePath, "{}?#% \t\r\n") {
		bad("BasePath", "format", `must start and end with "/", without {, }, ?, #, % or spaces`)
	}
	if opts.Tokens == nil {
		bad("Tokens", "required", "is required")
	}
	if svc.Profiles == nil && svc.Processes == nil && svc.PersonRequests == nil {
		bad("Services", "required", "at least one service is required")
	}
	if err := v.Err(); err != nil {
		err.(*verifykit.Error).Message = "Invalid console configuration."
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = ports.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Title == "" {
		opts.Title = "verifykit console"
	}
	css, err := assets.ReadFile("static/console.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	h := &Handler{
		base: opts.BasePath, title: opts.Title, svc: svc,
		tokens: opts.Tokens, clock: opts.Clock, log: opts.Logger,
		css: opts.BasePath + "static/console.css?v=" + hex.EncodeToString(sum[:6]),
	}
	if svc.Profiles != nil {
		h.fields = svc.Profiles.ResettableFields()
	}
	if h.pages, err = parsePages(h); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	h.routes(mux)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(h.crossOriginRefused))
	h.next = securityHeaders(cop.Handler(mux))
	return h, nil
}

// ServeHTTP serves the console's pages, forms and style sheet.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.next.ServeHTTP(w, r) }

// routes registers every page and form of the services given.
func (h *Handler) routes(mux *http.ServeMux) {
	p := func(pattern string) string {
		method, rest, _ := strings.Cut(pattern, " ")
		return method + " " + h.base + rest
	}
	static, _ := fs.Sub(assets, "static")
	files := http.StripPrefix(h.base+"static/", http.FileServerFS(static))
	mux.Handle(p("GET static/console.css"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc(p("GET signin"), h.signInPage)
	mux.HandleFunc(p("POST signin"), h.signIn)
	mux.HandleFunc(p("POST signout"), h.signOut)
	mux.HandleFunc(p("GET {$}"), h.signedIn(h.home))
	if h.svc.Profiles != nil {
		mux.HandleFunc(p("GET reset-requests"), h.signedIn(h.resetRequests))
		mux.HandleFunc(p("POST reset-requests/{userID}/{reqID}/{decision}"), h.signedIn(h.decideResetRequest))
		mux.HandleFunc(p("GET profiles"), h.signedIn(h.profileLookup))
		mux.HandleFunc(p("GET profiles/{userID}"), h.signedIn(h.profilePage))
		mux.HandleFunc(p("POST profiles/{userID}/reset"), h.signedIn(h.resetProfile))
	}
	if h.svc.PersonRequests != nil {
		mux.HandleFunc(p("GET person-requests"), h.signedIn(h.personRequestLookup))
		mux.HandleFunc(p("GET person-requests/{id}"), h.signedIn(h.personRequestPage))
		mux.HandleFunc(p("POST person-requests/{id}/resend"), h.signedIn(h.resendPersonRequest))
	}
	if h.svc.Processes != nil {
		mux.HandleFunc(p("GET processes"), h.signedIn(h.processList))
		mux.HandleFunc(p("GET processes/{id}"), h.signedIn(h.processPage))
		mux.HandleFunc(p("POST processes/{id}/cancel"), h.signedIn(h.cancelProcess))
		mux.HandleFunc(p("POST processes/{id}/delete"), h.signedIn(h.deleteProcess))
	}
	mux.HandleFunc(h.base, h.notFound)
}

// securityHeaders sets the headers every answer of the console carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store") // the pages show personal data; the style sheet overrides it
		next.ServeHTTP(w, r)
	})
}

// operator is the signed-in operator: the token the pages pass to the services, and what
// its claims say, for the header and the default organisation.
type operator struct {
	token  string
	claims ports.Claims
}

// session returns the operator of the request's cookie, or an error: no cookie, or a
// token the verifier no longer accepts (the error of authz.Authorize).
func (h *Handler) session(ctx context.Context, r *http.Request) (operator, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return operator{}, verifykit.New(verifykit.KindUnauthorized, authz.MsgInvalidToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return operator{}, verifykit.New(verifykit.KindUnauthorized, authz.MsgInvalidToken)
	}
	return h.verify(ctx, string(raw))
}

// verify checks token as the services do (verifier, expiry), with no scope: each page's
// service checks its own.
func (h *Handler) verify(ctx context.Context, token string) (operator, error) {
	claims, err := authz.Authorize(ctx, h.tokens, h.clock, token)
	if err != nil {
		return operator{}, err
	}
	return operator{token: token, claims: claims}, nil
}

// signedIn runs page for a signed-in operator; anyone else is sent to the sign-in page
// (a token that stopped being valid is forgotten).
func (h *Handler) signedIn(page func(http.ResponseWriter, *http.Request, operator)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op, err := h.session(r.Context(), r)
		if err != nil {
			if verifykit.KindOf(err) == verifykit.KindUnavailable {
				h.renderError(w, r, nil, err)
				return
			}
			if _, cerr := r.Cookie(cookieName); cerr == nil {
				h.clearCookie(w)
			}
			http.Redirect(w, r, h.base+"signin", http.StatusSeeOther)
			return
		}
		page(w, r, op)
	}
}

// setCookie keeps token in the session cookie.
func (h *Handler) setCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: base64.RawURLEncoding.EncodeToString([]byte(token)), Path: h.base,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// clearCookie makes the browser forget the session cookie.
func (h *Handler) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: h.base, MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
}

// signInPage shows the sign-in form.
func (h *Handler) signInPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "signin", nil, nil, signInData{Done: notice(r)})
}

// maxTokenLen bounds a pasted token, in bytes: a cookie must fit in a request header.
const maxTokenLen = 3000

// signIn verifies the pasted token and keeps it in the session cookie.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	token := strings.TrimSpace(r.PostFormValue("token"))
	token = strings.TrimPrefix(token, "Bearer ")
	var op operator
	var err error
	if len(token) > maxTokenLen {
		err = verifykit.Invalid("Validation failed.", verifykit.InvalidEntry{
			Entry: "token", EntryType: verifykit.EntryJSONProperty, Rule: "length", Description: "is too long for the console's cookie",
		})
	} else {
		op, err = h.verify(r.Context(), token)
	}
	if err != nil {
		h.render(w, r, 0, "signin", nil, err, signInData{})
		return
	}
	h.setCookie(w, op.token)
	h.log.InfoContext(r.Context(), "console: operator signed in", slog.String("subject", op.claims.Subject), slog.String("org_id", op.claims.OrgID))
	http.Redirect(w, r, h.base, http.StatusSeeOther)
}

// signOut forgets the session cookie.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	h.clearCookie(w)
	http.Redirect(w, r, h.base+"signin?done=signedout", http.StatusSeeOther)
}

// crossOriginRefused answers a state-changing request that CrossOriginProtection refused.
func (h *Handler) crossOriginRefused(w http.ResponseWriter, r *http.Request) {
	h.renderError(w, r, nil, &verifykit.Error{Kind: verifykit.KindForbidden, Message: "Cross-origin request refused: submit the console's own forms."})
}

// notFound answers a path the console does not serve.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	op, err := h.session(r.Context(), r)
	var opp *operator
	if err == nil {
		opp = &op
	}
	h.renderError(w, r, opp, verifykit.New(verifykit.KindNotFound, "Page not found"))
}

// logUnexpected logs an error that is not a plain refusal of the domain.
func (h *Handler) logUnexpected(ctx context.Context, err error) {
	switch verifykit.KindOf(err) {
	case verifykit.KindInternal:
		h.log.ErrorContext(ctx, "console: unexpected error", slog.String("error", err.Error()))
	case verifykit.KindUnavailable:
		var ve *verifykit.Error
		if errors.As(err, &ve) && ve.Err != nil {
			err = ve.Err
		}
		h.log.WarnContext(ctx, "console: dependency unavailable", slog.String("error", err.Error()))
	}
}

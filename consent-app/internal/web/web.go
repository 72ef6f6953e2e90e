// Package web renders the consent app's HTML pages and sets the headers every
// response carries. Pages are plain HTML and CSS from this binary: no script
// at all, nothing from another host.
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Static serves the stylesheet and other assets.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.FileServer(http.FS(sub))
}

// ContentSecurityPolicy allows this origin's stylesheet and images and
// nothing else: no script of any kind, no framing. form-action is left out
// on purpose: browsers apply it to the redirects after a form post, and the
// consent form's answer redirects to the client's own redirect URI.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'"

// SetSecurityHeaders sets the headers every response of the auth origin
// carries.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// View is what every page template receives.
type View struct {
	L *locale.Localizer
	// Title is the page's translated title.
	Title string
	// Languages is the language switcher; empty hides it.
	Languages []locale.Choice
	// Data is the page's own data.
	Data any
}

// Part is what a partial template for one item of a page receives: the
// page's localizer, as $.L in the partial like in the page, and the item.
type Part struct {
	L    *locale.Localizer
	Item any
}

// Part pairs item with the view's localizer, for a partial template:
// {{template "connection-details" ($.Part .)}}.
func (v View) Part(item any) Part { return Part{L: v.L, Item: item} }

// NewView returns the view of a page titled by message titleID whose
// language switcher links to self (path and query; "" = no switcher).
func NewView(l *locale.Localizer, self, titleID string, data any) View {
	v := View{L: l, Title: l.T(titleID), Data: data}
	if self != "" {
		v.Languages = l.Choices(self)
	}
	return v
}

// Render writes the named page with status.
func Render(w http.ResponseWriter, status int, name string, v View) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", v.L.Lang())
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Language, Cookie")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, v); err != nil {
		slog.Error("render page", "page", name, "err", err)
	}
}

// Message is the data of message.html: a title, what the person can do, and
// optionally details we cannot translate (such as Hydra's error text).
type Message struct {
	Text   string
	Detail string
	// Problem styles the page as an error rather than a notice.
	Problem bool
}

// Problem is an error page: its status, the message ids of its title and
// text, and optionally a detail line we cannot translate (such as Hydra's
// error text or a client developer's mistake).
type Problem struct {
	Status  int
	TitleID string
	TextID  string
	Detail  string
}

// The error pages every flow step may show.
var (
	// BadForm: the form's CSRF token is missing or does not match.
	BadForm = Problem{Status: http.StatusForbidden, TitleID: "error.csrf.title", TextID: "error.csrf.message"}
	// BadLink: a flow step was opened without its challenge.
	BadLink = Problem{Status: http.StatusBadRequest, TitleID: "error.link.title", TextID: "error.link.message"}
	// Expired: Hydra does not accept the challenge (unknown, used, expired).
	Expired = Problem{Status: http.StatusBadRequest, TitleID: "error.expired.title", TextID: "error.expired.message"}
	// Unavailable: our outage (Hydra's admin API, the database).
	Unavailable = Problem{Status: http.StatusServiceUnavailable, TitleID: "error.unavailable.title", TextID: "error.unavailable.message"}
)

// Error renders the error page p: the one writer of the auth origin's HTML
// error pages. The language switcher is offered on GET requests, which a
// link can repeat.
func Error(w http.ResponseWriter, r *http.Request, l *locale.Localizer, p Problem) {
	Render(w, p.Status, "message.html", NewView(l, selfIfGet(r), p.TitleID, Message{Text: l.T(p.TextID), Detail: p.Detail, Problem: true}))
}

// HydraError renders the page for a failed Hydra admin call: a challenge
// Hydra does not accept (unknown, used, expired, malformed) is the user's to
// retry from their app; anything else is our outage.
func HydraError(w http.ResponseWriter, r *http.Request, l *locale.Localizer, log *slog.Logger, err error) {
	if errors.Is(err, hydraadmin.ErrChallengeInvalid) || errors.Is(err, hydraadmin.ErrRejected) {
		if errors.Is(err, hydraadmin.ErrRejected) {
			log.WarnContext(r.Context(), "hydra refused a challenge", "err", err)
		}
		Error(w, r, l, Expired)
		return
	}
	log.ErrorContext(r.Context(), "hydra admin call failed", "err", err)
	Error(w, r, l, Unavailable)
}

// Notice renders an informational page, such as "you are signed out".
func Notice(w http.ResponseWriter, r *http.Request, l *locale.Localizer, titleID, textID string) {
	Render(w, http.StatusOK, "message.html", NewView(l, selfIfGet(r), titleID, Message{Text: l.T(textID)}))
}

func selfIfGet(r *http.Request) string {
	if r.Method != http.MethodGet {
		return ""
	}
	return r.URL.RequestURI()
}

// Package web renders the consent app's HTML pages and sets the headers every
// page carries.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
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

// SetSecurityHeaders sets the headers every response of the auth origin
// carries. Pages use no inline script or style, so the policy forbids both.
func SetSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// Render writes the named page with status.
func Render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		slog.Error("render page", "page", name, "err", err)
	}
}

// ErrorPage is the data of error.html.
type ErrorPage struct {
	Title   string
	Message string
}

// Error renders a plain error page: a title and what the person can do.
func Error(w http.ResponseWriter, status int, title, message string) {
	Render(w, status, "error.html", ErrorPage{Title: title, Message: message})
}

package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/mcp-oauth/consent-app/internal/consent"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/login"
	"github.com/mcp-oauth/consent-app/internal/logout"
	"github.com/mcp-oauth/consent-app/internal/logtest"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// inline matches what the Content-Security-Policy would block: scripts,
// event handlers and inline styles.
var inline = regexp.MustCompile(`(?i)<script|\son[a-z]+=|\sstyle=|<style|javascript:`)

// TestEveryPageRendersInEveryLanguage renders each page with full data in
// each language: every message exists, and nothing inline would need the
// CSP relaxed.
func TestEveryPageRendersInEveryLanguage(t *testing.T) {
	cat, err := locale.New(locale.Options{Log: logtest.Strict(t)})
	if err != nil {
		t.Fatal(err)
	}
	teams := []store.Team{{ID: "t1", Name: "Acme Corp"}, {ID: "t2", Name: "Globex"}}
	for _, tag := range cat.Languages() {
		l := cat.Localizer(tag)
		read, write := consent.ScopeTexts(l, []string{"invoices:read", "invoices:write", "accounting:read", "accounting:write", "openid"})
		pages := map[string]web.View{
			"login.html": web.NewView(l, "/login?login_challenge=c", "login.title",
				login.Page{Challenge: "c", CSRFToken: "t", ClientName: "Demo", Email: "a@example.com", Remember: true, Error: l.N("login.error.throttled", 3)}),
			"consent.html": web.NewView(l, "/consent?consent_challenge=c", "consent.title",
				consent.Page{Challenge: "c", CSRFToken: "t", ClientName: "Demo", ClientInitial: "D", UserEmail: "a@example.com",
					RedirectHost: "127.0.0.1", RedirectLoopback: true, Teams: teams, Read: read, Write: write, Error: l.T(consent.ErrNoTeamChosen)}),
			"consent.html no teams": web.NewView(l, "/consent?consent_challenge=c", "consent.title",
				consent.Page{Challenge: "c", CSRFToken: "t", ClientName: "Demo", ClientInitial: "D", UserEmail: "c@example.com", Verified: true}),
			"logout.html":  web.NewView(l, "/logout?logout_challenge=c", "logout.title", logout.Page{Challenge: "c", CSRFToken: "t", Email: "a@example.com"}),
			"message.html": web.NewView(l, "/error", "error.flow.title", web.Message{Text: l.T("error.flow.message"), Detail: "hydra says no", Problem: true}),
		}
		for name, v := range pages {
			rec := httptest.NewRecorder()
			web.Render(rec, http.StatusOK, strings.Fields(name)[0], v)
			body := rec.Body.String()
			if !strings.Contains(body, `<html lang="`+tag.String()+`">`) {
				t.Errorf("%s %s: no lang attribute", tag, name)
			}
			if m := inline.FindString(body); m != "" {
				t.Errorf("%s %s: inline %q would break the CSP", tag, name, m)
			}
			if strings.Contains(body, "scope.") || strings.Contains(body, "consent.") || strings.Contains(body, "login.") {
				t.Errorf("%s %s: an untranslated message id shows:\n%s", tag, name, body)
			}
			if got := rec.Header().Get("Content-Language"); got != tag.String() {
				t.Errorf("%s %s: Content-Language %q", tag, name, got)
			}
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := http.Header{}
	web.SetSecurityHeaders(h)
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows scripts", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers = %v", h)
	}
}

// TestStaticAssets: the stylesheet and icon are embedded and served here.
func TestStaticAssets(t *testing.T) {
	srv := http.StripPrefix("/static/", web.Static())
	for _, path := range []string{"/static/style.css", "/static/icon.svg"} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "://") && !strings.Contains(rec.Body.String(), "http://www.w3.org/2000/svg") {
			t.Errorf("%s refers to another host", path)
		}
	}
}

package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mcp-oauth/catalog"
)

// The browser tests play a person in Debian's Chromium: sign-in, consent,
// deny, the user without a team, the sign-in throttle, remember me and
// logout, in several languages. They save the screenshots shown in the
// README (docs/screenshots/).

// sessionCookie is the consent app's session cookie on a plain-HTTP origin.
const sessionCookie = "session"

// signIn fills and submits the sign-in form and returns the next page.
func (c *chrome) signIn(p person, remember bool) *network.Response {
	c.t.Helper()
	c.do(chromedp.SendKeys(chromedp.ID("email"), p.email), chromedp.SendKeys(chromedp.ID("password"), p.password))
	if remember {
		c.do(chromedp.Click(chromedp.ID("remember")))
	}
	return c.click("button[type=submit]")
}

// colorScheme emulates prefers-color-scheme; "" ends the emulation.
func (c *chrome) colorScheme(scheme string) {
	c.t.Helper()
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(c.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		c.t.Fatal(err)
	}
}

// chooseTeam clicks the team's label, as a person would.
func (c *chrome) chooseTeam(name string) {
	c.t.Helper()
	c.do(chromedp.Click(chromedp.Search(fmt.Sprintf(`//label[normalize-space()=%q]`, name))))
}

func path(t *testing.T, resp *network.Response) string {
	t.Helper()
	u, err := url.Parse(resp.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

func header(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// wantPage fails unless resp is the page at wantPath with wantStatus.
func wantPage(t *testing.T, resp *network.Response, wantStatus int, wantPath string) {
	t.Helper()
	if int(resp.Status) != wantStatus || path(t, resp) != wantPath {
		t.Fatalf("got HTTP %d %s, want %d %s", resp.Status, resp.URL, wantStatus, wantPath)
	}
}

func assertSecurityHeaders(t *testing.T, resp *network.Response) {
	t.Helper()
	csp := header(resp, "Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: Content-Security-Policy %q", resp.URL, csp)
	}
	if header(resp, "X-Content-Type-Options") != "nosniff" || header(resp, "Referrer-Policy") != "no-referrer" {
		t.Errorf("%s: headers %v", resp.URL, resp.Headers)
	}
}

// TestBrowserSignInAndConsent runs the whole flow in Chromium, in English
// (the browser's language) and in German (ui_locales=de from the client):
// sign-in, the consent page, the redirect with a code, the go-sdk's token
// exchange and a tool call in the chosen team.
func TestBrowserSignInAndConsent(t *testing.T) {
	tests := []struct {
		lang, uiLocales       string
		team, slug, prefix    string
		signIn, unverified    string
		readLabel, writeBadge string
		loopback, noTeam      string
	}{
		{
			lang: "en", team: "Acme Corp", slug: "acme", prefix: "ACME-",
			signIn: "Sign in", unverified: "Unverified",
			readLabel: "View invoices and estimates", writeBadge: "Can change data",
			loopback: "This is a program on this computer", noTeam: "Choose one of your teams to connect.",
		},
		{
			lang: "de", uiLocales: "de", team: "Globex", slug: "globex", prefix: "GLOBEX-",
			signIn: "Anmelden", unverified: "Nicht verifiziert",
			readLabel: "Rechnungen und Angebote ansehen", writeBadge: "Kann Daten ändern",
			loopback: "Das ist ein Programm auf diesem Computer", noTeam: "Wählen Sie eines Ihrer Teams aus.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			c := newChrome(t, "en-US,en;q=0.9")
			cb := newCallback(t)
			f := startFlow(t, cb)
			authURL := f.url(t)
			if tt.uiLocales != "" {
				authURL += "&ui_locales=" + tt.uiLocales
			}

			// Sign-in.
			resp := c.open(authURL)
			wantPage(t, resp, http.StatusOK, "/login")
			assertSecurityHeaders(t, resp)
			if got := evaluate[string](c, "document.documentElement.lang"); got != tt.lang {
				t.Errorf("<html lang=%q>, want %q", got, tt.lang)
			}
			if got := c.text("h1"); got != tt.signIn {
				t.Errorf("sign-in heading %q, want %q", got, tt.signIn)
			}
			c.screenshot("sign-in." + tt.lang)
			before := c.cookie(sessionCookie)
			resp = c.signIn(alice, false)

			// Consent.
			wantPage(t, resp, http.StatusOK, "/consent")
			assertSecurityHeaders(t, resp)
			after := c.cookie(sessionCookie)
			switch {
			case before == nil || after == nil:
				t.Errorf("session cookie before sign-in %v, after %v", before, after)
			case after.Value == before.Value:
				t.Error("the session identifier is the same after sign-in")
			case !after.HTTPOnly || after.SameSite != network.CookieSameSiteLax:
				t.Errorf("session cookie %+v, want HttpOnly and SameSite=Lax", after)
			}
			if got := c.text("#client-name"); got != "Demo Assistant" {
				t.Errorf("client name %q", got)
			}
			if got := c.text(".badge-unverified"); got != tt.unverified {
				t.Errorf("badge %q, want %q: a self-registered client is unverified", got, tt.unverified)
			}
			if got := c.text("#redirect-host"); got != "127.0.0.1" {
				t.Errorf("redirect host %q, want 127.0.0.1", got)
			}
			if got := c.text(".destination .warning"); !strings.HasPrefix(got, tt.loopback) {
				t.Errorf("loopback warning %q, want %q…", got, tt.loopback)
			}
			if n, checked := c.count("input[name=team_id]"), c.count("input[name=team_id]:checked"); n != 2 || checked != 0 {
				t.Errorf("%d teams with %d preselected; alice has two, so none may be preselected", n, checked)
			}
			if got := c.text(`.scope-group.read li[data-scope="invoices:read"] .scope-label`); got != tt.readLabel {
				t.Errorf("invoices:read label %q, want %q", got, tt.readLabel)
			}
			if got := c.text(".scope-group.write .badge-write"); got != tt.writeBadge {
				t.Errorf("write badge %q, want %q", got, tt.writeBadge)
			}
			shown := evaluate[[]string](c, `[...document.querySelectorAll("[data-scope]")].map(e => e.dataset.scope)`)
			writes := evaluate[[]string](c, `[...document.querySelectorAll(".scope-group.write [data-scope]")].map(e => e.dataset.scope)`)
			for _, s := range shown {
				sc, ok := catalog.Lookup(s)
				if !ok {
					t.Errorf("scope %q outside the catalog is shown", s)
				} else if (sc.Access == catalog.Write) != slices.Contains(writes, s) {
					t.Errorf("scope %s is in the wrong group (writes: %v)", s, writes)
				}
			}
			if !slices.Contains(shown, "invoices:read") || len(writes) == 0 {
				t.Errorf("shown scopes %v, writes %v: want reads and writes", shown, writes)
			}
			c.screenshot("consent." + tt.lang)
			switch tt.lang {
			case "en": // the same page on a phone
				c.do(chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile))
				c.screenshot("consent-phone.en")
				c.do(chromedp.ResetViewport())
			case "de": // and in the dark colour scheme
				c.colorScheme("dark")
				c.screenshot("consent-dark.de")
				c.colorScheme("")
			}

			// Allow without a team: the browser refuses (the radios are
			// required), and so does the server when that check is skipped.
			c.do(chromedp.Click(chromedp.CSS(`button[value=allow]`)), chromedp.Sleep(300*time.Millisecond))
			if c.count("input[name=team_id]:invalid") != 2 || !strings.Contains(c.location(), "/consent") {
				t.Fatalf("Allow without a team left the page for %s", c.location())
			}
			c.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("input[name=team_id]").forEach(e => e.removeAttribute("required"))`))
			resp = c.click(`button[value=allow]`)
			wantPage(t, resp, http.StatusBadRequest, "/consent")
			if got := c.text("#form-error"); got != tt.noTeam {
				t.Errorf("no team chosen: message %q, want %q", got, tt.noTeam)
			}

			// Allow with a team: the browser lands on the client's redirect
			// URI with a code, which the client exchanges for tokens.
			c.chooseTeam(tt.team)
			resp = c.click(`button[value=allow]`)
			if !strings.HasPrefix(resp.URL, cb.url()+"?") || !strings.Contains(resp.URL, "code=") {
				t.Fatalf("after Allow the browser is at %s, want %s with a code", resp.URL, cb.url())
			}
			conn, err := f.result(t)
			if err != nil {
				t.Fatalf("the client could not finish: %v", err)
			}
			var me whoami
			callTool(t, conn.session, "whoami", nil, &me)
			if me.User.Email != alice.email || me.Team.Slug != tt.slug {
				t.Errorf("whoami = %+v, want alice in %s", me, tt.slug)
			}
			assertInvoices(t, conn, tt.prefix)
		})
	}
}

// TestBrowserDeny: the person switches the page to French with the language
// switcher, signs in and presses Deny; the client gets access_denied.
func TestBrowserDeny(t *testing.T) {
	c := newChrome(t, "en-US,en;q=0.9")
	f := startFlow(t, newCallback(t))
	wantPage(t, c.open(f.url(t)), http.StatusOK, "/login")
	resp := c.click(`.langs a[hreflang=fr]`)
	wantPage(t, resp, http.StatusOK, "/login")
	if got := c.text("h1"); got != "Connexion" {
		t.Errorf("after choosing Français the heading is %q", got)
	}
	if got := c.text(`.langs a[aria-current]`); got != "Français" {
		t.Errorf("the switcher marks %q as current", got)
	}
	wantPage(t, c.signIn(alice, false), http.StatusOK, "/consent")
	// The choice holds for the rest of the flow.
	if got := c.text(`li[data-scope="invoices:read"] .scope-label`); got != "Consulter les factures et les devis" {
		t.Errorf("consent page not in French: %q", got)
	}
	resp = c.click(`button[value=deny]`)
	if !strings.Contains(resp.URL, "error=access_denied") {
		t.Errorf("after Deny the browser is at %s", resp.URL)
	}
	_, err := f.result(t)
	var ae *authorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Fatalf("deny: %v, want access_denied", err)
	}
}

// TestBrowserUserWithoutTeam: carol, whose browser asks for German, belongs
// to no team: the page says so, offers no Allow, and leaving denies.
func TestBrowserUserWithoutTeam(t *testing.T) {
	c := newChrome(t, "de-DE,de;q=0.9,en;q=0.5")
	f := startFlow(t, newCallback(t))
	c.open(f.url(t))
	wantPage(t, c.signIn(carol, false), http.StatusOK, "/consent")
	if c.count("input[name=team_id]") != 0 || c.count(`button[value=allow]`) != 0 {
		t.Error("carol is offered a team or an Allow button")
	}
	if got := c.text("#no-teams"); !strings.HasPrefix(got, "Sie gehören keinem Team an") {
		t.Errorf("no-team message %q", got)
	}
	c.screenshot("no-team.de")
	c.click(`button[value=deny]`)
	_, err := f.result(t)
	var ae *authorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Fatalf("carol: %v, want access_denied", err)
	}
}

// TestBrowserSignInThrottle: after five failed attempts for one address the
// form refuses further tries with 429, Retry-After and a plain message. The
// address has no account: the limit must look the same either way.
func TestBrowserSignInThrottle(t *testing.T) {
	c := newChrome(t, "en-US,en;q=0.9")
	f := startFlow(t, newCallback(t))
	c.open(f.url(t))
	c.do(chromedp.SendKeys(chromedp.ID("email"), "mallory@example.com"))
	for i := range 5 {
		c.do(chromedp.SendKeys(chromedp.ID("password"), "guess-"+strconv.Itoa(i)))
		resp := c.click("button[type=submit]")
		wantPage(t, resp, http.StatusUnauthorized, "/login")
		if got := c.text("#form-error"); got != "The email address or password is incorrect." {
			t.Fatalf("attempt %d: message %q", i+1, got)
		}
	}
	c.do(chromedp.SendKeys(chromedp.ID("password"), "guess-6"))
	resp := c.click("button[type=submit]")
	wantPage(t, resp, http.StatusTooManyRequests, "/login")
	retry, err := strconv.Atoi(header(resp, "Retry-After"))
	if err != nil || retry <= 0 || retry > 15*60 {
		t.Errorf("Retry-After %q, want seconds up to 900", header(resp, "Retry-After"))
	}
	if got := c.text("#form-error"); got != "Too many failed sign-in attempts. Please wait 15 minutes, then try again." {
		t.Errorf("throttle message %q", got)
	}
	c.screenshot("sign-in-throttled.en")
}

// TestBrowserRememberMeAndLogout: "keep me signed in" lets the next app skip
// the sign-in form; logout asks for confirmation, and afterwards the form is
// back.
func TestBrowserRememberMeAndLogout(t *testing.T) {
	c := newChrome(t, "en-US,en;q=0.9")
	cb := newCallback(t)

	f := startFlow(t, cb)
	c.open(f.url(t))
	wantPage(t, c.signIn(alice, true), http.StatusOK, "/consent")
	c.chooseTeam("Acme Corp")
	c.click(`button[value=allow]`)
	if _, err := f.result(t); err != nil {
		t.Fatalf("first app: %v", err)
	}

	f = startFlow(t, cb)
	resp := c.open(f.url(t))
	wantPage(t, resp, http.StatusOK, "/consent") // no sign-in form
	c.click(`button[value=deny]`)
	f.result(t)

	logout := st.IssuerURL + "/oauth2/sessions/logout"
	wantPage(t, c.open(logout), http.StatusOK, "/logout")
	if got := c.text(".account"); !strings.Contains(got, alice.email) {
		t.Errorf("logout page names %q, want alice", got)
	}
	c.screenshot("logout.en")
	c.click(`button[value=stay]`)
	if got := c.text("h1"); got != "You are still signed in" {
		t.Errorf("after Stay signed in: %q", got)
	}

	wantPage(t, c.open(logout), http.StatusOK, "/logout")
	wantPage(t, c.click(`button[value=logout]`), http.StatusOK, "/logged-out")
	if got := c.text("h1"); got != "You are signed out" {
		t.Errorf("after Sign out: %q", got)
	}

	f = startFlow(t, cb)
	wantPage(t, c.open(f.url(t)), http.StatusOK, "/login")
}

// TestBrowserErrorPage: a sign-in link whose challenge Hydra does not know
// gets a plain 400 page in the browser's language.
func TestBrowserErrorPage(t *testing.T) {
	for _, tt := range []struct{ lang, accept, title string }{
		{"en", "en-US,en;q=0.9", "This link has expired"},
		{"de", "de-DE,de;q=0.9", "Dieser Link ist abgelaufen"},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			c := newChrome(t, tt.accept)
			resp := c.open(st.IssuerURL + "/login?login_challenge=expired-or-made-up")
			wantPage(t, resp, http.StatusBadRequest, "/login")
			assertSecurityHeaders(t, resp)
			if got := c.text("h1"); got != tt.title {
				t.Errorf("heading %q, want %q", got, tt.title)
			}
			c.screenshot("error." + tt.lang)
		})
	}
}

package login

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/password"
	"github.com/mcp-oauth/consent-app/internal/store"
)

const authURL = "http://localhost:3000/oauth2/auth?client_id=c&code_challenge=x&code_challenge_method=S256"

type fakeHydra struct {
	requestURL string
	accepted   []hydraadmin.LoginAcceptance
}

func (f *fakeHydra) LoginRequest(_ context.Context, challenge string) (*hydra.OAuth2LoginRequest, error) {
	if challenge != "ch" {
		return nil, hydraadmin.ErrChallengeInvalid
	}
	name := "Demo Assistant"
	return &hydra.OAuth2LoginRequest{Challenge: challenge, RequestUrl: f.requestURL, Client: hydra.OAuth2Client{ClientName: &name}}, nil
}

func (f *fakeHydra) AcceptLogin(_ context.Context, _ string, a hydraadmin.LoginAcceptance) (string, error) {
	f.accepted = append(f.accepted, a)
	return "http://localhost:3000/oauth2/auth?login_verifier=v", nil
}

func (f *fakeHydra) RejectLogin(context.Context, string, hydraadmin.Rejection) (string, error) {
	return "http://127.0.0.1:9/cb?error=invalid_request", nil
}

type fakeUsers map[string]store.User

func (u fakeUsers) UserByEmail(_ context.Context, email string) (store.User, error) {
	if user, ok := u[accountKey(email)]; ok {
		return user, nil
	}
	return store.User{}, store.ErrNotFound
}

type fixture struct {
	t      *testing.T
	hydra  *fakeHydra
	router *gin.Engine
}

var aliceHash, _ = password.Hash("right password")

func newFixture(t *testing.T, limits Limits) *fixture {
	t.Helper()
	return newFixtureWith(t, limits, fakeUsers{"alice@example.com": {ID: "u-alice", Email: "alice@example.com", PasswordHash: aliceHash}})
}

func newFixtureWith(t *testing.T, limits Limits, users Users) *fixture {
	t.Helper()
	gin.SetMode(gin.TestMode)
	cat, err := locale.New(locale.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, hydra: &fakeHydra{requestURL: authURL}}
	h := &Handler{
		Hydra: f.hydra, Users: users,
		CSRF: csrf.New(strings.Repeat("s", 32), false), Locale: cat, Throttle: NewThrottle(limits),
		MCPResourceURL: "http://localhost:8080/mcp", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	f.router = gin.New()
	_ = f.router.SetTrustedProxies(nil)
	f.router.GET("/login", h.Show)
	f.router.POST("/login", h.Submit)
	return f
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// browser is one client: its address, cookies and language.
type browser struct {
	addr, lang string
	cookies    []*http.Cookie
}

func (f *fixture) do(b *browser, r *http.Request) *httptest.ResponseRecorder {
	r.RemoteAddr = net.JoinHostPort(b.addr, "5000")
	if b.lang != "" {
		r.Header.Set("Accept-Language", b.lang)
	}
	for _, c := range b.cookies {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	f.router.ServeHTTP(rec, r)
	for _, c := range rec.Result().Cookies() {
		b.cookies = append([]*http.Cookie{c}, b.cookies...) // the newest wins
	}
	return rec
}

// signIn loads the form and posts it.
func (f *fixture) signIn(b *browser, email, pw string, extra url.Values) *httptest.ResponseRecorder {
	f.t.Helper()
	page := f.do(b, httptest.NewRequest("GET", "/login?login_challenge=ch", nil))
	m := csrfField.FindStringSubmatch(page.Body.String())
	if page.Code != http.StatusOK || m == nil {
		f.t.Fatalf("GET /login: %d %s", page.Code, page.Body)
	}
	form := url.Values{"login_challenge": {"ch"}, "csrf_token": {m[1]}, "email": {email}, "password": {pw}}
	for k, v := range extra {
		form[k] = v
	}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(b, r)
}

var alert = regexp.MustCompile(`role="alert"[^>]*>.*?<span>([^<]*)</span>`)

func alertText(rec *httptest.ResponseRecorder) string {
	m := alert.FindStringSubmatch(rec.Body.String())
	if m == nil {
		return ""
	}
	return m[1]
}

func TestUnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	f := newFixture(t, Limits{})
	unknown := f.signIn(&browser{addr: "192.0.2.1"}, "nobody@example.com", "right password", nil)
	wrong := f.signIn(&browser{addr: "192.0.2.2"}, "alice@example.com", "wrong password", nil)
	if unknown.Code != http.StatusUnauthorized || wrong.Code != http.StatusUnauthorized {
		t.Fatalf("status unknown=%d wrong=%d, want 401 both", unknown.Code, wrong.Code)
	}
	if alertText(unknown) == "" || alertText(unknown) != alertText(wrong) {
		t.Errorf("messages differ: unknown %q, wrong password %q", alertText(unknown), alertText(wrong))
	}
	if len(f.hydra.accepted) != 0 {
		t.Errorf("Hydra was told of a sign-in: %+v", f.hydra.accepted)
	}
}

// pickyUsers fails like PostgreSQL does on a text it cannot store: a NUL
// or invalid UTF-8.
type pickyUsers struct{ fakeUsers }

func (u pickyUsers) UserByEmail(ctx context.Context, email string) (store.User, error) {
	if strings.ContainsRune(email, 0) || !utf8.ValidString(email) {
		return store.User{}, errors.New("ERROR: invalid byte sequence for encoding \"UTF8\" (SQLSTATE 22021)")
	}
	return u.fakeUsers.UserByEmail(ctx, email)
}

// TestUnreadableAddressIsAWrongAddress: an address the database cannot
// compare is a wrong address (401), not an outage (503).
func TestUnreadableAddressIsAWrongAddress(t *testing.T) {
	f := newFixtureWith(t, Limits{}, pickyUsers{fakeUsers{"alice@example.com": {ID: "u-alice", Email: "alice@example.com", PasswordHash: aliceHash}}})
	for i, email := range []string{"alice@example.com\x00", "alice\xff@example.com", "alice@example.com\r\nX-Injected: 1", "\x1b[2Jalice@example.com"} {
		rec := f.signIn(&browser{addr: "192.0.2." + strconv.Itoa(10+i)}, email, "right password", nil)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("email %q: HTTP %d, want 401", email, rec.Code)
		}
	}
	if len(f.hydra.accepted) != 0 {
		t.Errorf("Hydra was told of a sign-in: %+v", f.hydra.accepted)
	}
}

func TestThrottlePerAccount(t *testing.T) {
	f := newFixture(t, Limits{PerAccount: 3, PerAddress: 100})
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		b := &browser{addr: "192.0.2.10", lang: "de"}
		for i := range 3 {
			if rec := f.signIn(b, email, "guess"+strconv.Itoa(i), nil); rec.Code != http.StatusUnauthorized {
				t.Fatalf("%s attempt %d: %d", email, i+1, rec.Code)
			}
		}
		// Throttled now, even with the right password and from elsewhere,
		// and the same for an account that does not exist.
		rec := f.signIn(&browser{addr: "198.51.100.7", lang: "de"}, strings.ToUpper(email), "right password", nil)
		if rec.Code != http.StatusTooManyRequests {
			t.Fatalf("%s after 3 failures: %d, want 429", email, rec.Code)
		}
		retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
		if err != nil || retry < 14*60 || retry > 15*60 {
			t.Errorf("%s: Retry-After %q, want about 900 seconds", email, rec.Header().Get("Retry-After"))
		}
		if got := alertText(rec); !strings.Contains(got, "Zu viele fehlgeschlagene Anmeldeversuche") || !strings.Contains(got, "15 Minuten") {
			t.Errorf("%s: message %q, want the German throttle message with 15 minutes", email, got)
		}
	}
	if len(f.hydra.accepted) != 0 {
		t.Errorf("a throttled sign-in went through: %+v", f.hydra.accepted)
	}
	// Another account from the first address is not affected.
	if rec := f.signIn(&browser{addr: "192.0.2.10"}, "carol@example.com", "x", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("other account: %d, want 401", rec.Code)
	}
}

func TestThrottlePerAddress(t *testing.T) {
	f := newFixture(t, Limits{PerAccount: 100, PerAddress: 3})
	for i := range 3 {
		f.signIn(&browser{addr: "2001:db8:1:2::" + strconv.Itoa(i+1)}, "user"+strconv.Itoa(i)+"@example.com", "x", nil)
	}
	// Another address of the same IPv6 /64 waits, with the right password.
	if rec := f.signIn(&browser{addr: "2001:db8:1:2::99"}, "alice@example.com", "right password", nil); rec.Code != http.StatusTooManyRequests {
		t.Errorf("same /64 after 3 failures: %d, want 429", rec.Code)
	}
	if rec := f.signIn(&browser{addr: "2001:db8:1:3::1"}, "alice@example.com", "right password", nil); rec.Code != http.StatusFound {
		t.Errorf("another /64: %d, want 302", rec.Code)
	}
}

func TestSuccessfulSignIn(t *testing.T) {
	for _, remember := range []bool{true, false} {
		t.Run("remember="+strconv.FormatBool(remember), func(t *testing.T) {
			f := newFixture(t, Limits{PerAccount: 2})
			b := &browser{addr: "192.0.2.20"}
			f.signIn(b, "alice@example.com", "typo", nil) // one failure, forgotten on success
			extra := url.Values{}
			if remember {
				extra.Set("remember", "true")
			}
			before := sessionCookie(b)
			rec := f.signIn(b, " Alice@Example.com ", "right password", extra)
			if rec.Code != http.StatusFound || !strings.Contains(rec.Header().Get("Location"), "login_verifier=") {
				t.Fatalf("sign-in: %d %s", rec.Code, rec.Header().Get("Location"))
			}
			want := hydraadmin.LoginAcceptance{Subject: "u-alice", Remember: remember, RememberFor: 30 * 24 * time.Hour}
			if len(f.hydra.accepted) != 1 || f.hydra.accepted[0] != want {
				t.Errorf("accepted %+v, want %+v", f.hydra.accepted, want)
			}
			after := sessionCookie(b)
			if before == "" || after == "" || after == before {
				t.Errorf("session identifier before %q, after %q: want a fresh one", before, after)
			}
			// The earlier failure no longer counts: one more is allowed.
			if rec := f.signIn(b, "alice@example.com", "typo", nil); rec.Code != http.StatusUnauthorized {
				t.Errorf("after success, one failure: %d, want 401", rec.Code)
			}
		})
	}
}

func sessionCookie(b *browser) string {
	for _, c := range b.cookies {
		if c.Name == csrf.CookieName {
			return c.Value
		}
	}
	return ""
}

func TestFormIsRefusedWithoutCSRFToken(t *testing.T) {
	f := newFixture(t, Limits{})
	b := &browser{addr: "192.0.2.30"}
	f.do(b, httptest.NewRequest("GET", "/login?login_challenge=ch", nil))
	form := url.Values{"login_challenge": {"ch"}, "email": {"alice@example.com"}, "password": {"right password"}}
	r := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := f.do(b, r); rec.Code != http.StatusForbidden || len(f.hydra.accepted) != 0 {
		t.Errorf("POST without token: %d, accepted %v", rec.Code, f.hydra.accepted)
	}
}

func TestPageLanguage(t *testing.T) {
	tests := []struct {
		name, requestURL, acceptLanguage, want string
	}{
		{"english by default", authURL, "", `<h1>Sign in</h1>`},
		{"accept-language", authURL, "fr-FR,fr;q=0.9", `<h1>Connexion</h1>`},
		{"ui_locales beats accept-language", authURL + "&ui_locales=de", "fr", `<h1>Anmelden</h1>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Limits{})
			f.hydra.requestURL = tt.requestURL
			rec := f.do(&browser{addr: "192.0.2.40", lang: tt.acceptLanguage}, httptest.NewRequest("GET", "/login?login_challenge=ch", nil))
			if !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("page lacks %s:\n%s", tt.want, rec.Body)
			}
		})
	}
}

func TestUnknownChallenge(t *testing.T) {
	f := newFixture(t, Limits{})
	rec := f.do(&browser{addr: "192.0.2.50", lang: "de"}, httptest.NewRequest("GET", "/login?login_challenge=stale", nil))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Dieser Link ist abgelaufen") {
		t.Errorf("stale challenge: %d\n%s", rec.Code, rec.Body)
	}
}

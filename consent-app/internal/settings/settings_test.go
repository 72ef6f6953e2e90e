package settings

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-jose/go-jose/v4"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/store/storetest"
)

const cookieSecret = "settings-test-cookie-secret-0123456789"

// The demo users the tests act as (storetest seeds them).
var (
	alice = demo.Alice.Email // acme owner, globex member
	bob   = demo.Bob.Email   // globex admin
)

func TestSealer(t *testing.T) {
	s := newSealer(cookieSecret)
	now := time.Now()
	v := s.seal("session", now.Add(time.Minute), "user-1")
	if f, ok := s.open("session", v, now); !ok || len(f) != 1 || f[0] != "user-1" {
		t.Fatalf("open = %v %v", f, ok)
	}
	for name, bad := range map[string]string{
		"expired":      s.seal("session", now.Add(-time.Second), "user-1"),
		"other kind":   s.seal("signin", now.Add(time.Minute), "user-1"),
		"other secret": newSealer("another-secret-another-secret-0000").seal("session", now.Add(time.Minute), "user-1"),
		"tampered":     strings.Replace(v, v[:4], "AAAA", 1),
		"garbage":      "not.a.cookie",
		"empty":        "",
	} {
		if f, ok := s.open("session", bad, now); ok {
			t.Errorf("%s: opened as %v", name, f)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                          Home,
		"/settings":                 "/settings",
		"/settings/teams/x?lang=de": "/settings/teams/x?lang=de",
		"/settingsx":                Home,
		"/login":                    Home,
		"//evil.example/settings":   Home,
		"/\\evil.example":           Home,
		"https://evil.example/":     Home,
		"javascript:alert(1)":       Home,
		"/settings/../admin":        Home,
		"/settings/":                Home,
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// provider plays Hydra's token endpoint and key set for the settings
// client: it checks the client's secret and PKCE verifier and answers with
// an ID token it signs, whose claims a test may change.
type provider struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string
	key    *rsa.PrivateKey

	mu        sync.Mutex
	challenge string         // from the authorization request
	nonce     string         // from the authorization request
	subject   string         // the user signing in
	edit      func(c claims) // changes the next token's claims
	status    int            // answers the token request with this status instead
}

type claims map[string]any

func newProvider(t *testing.T, issuer string) *provider {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{t: t, issuer: issuer, key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /oauth2/token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status != 0 {
		w.WriteHeader(p.status)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	id, secret, _ := r.BasicAuth()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case id != firstparty.ClientID || secret != firstparty.Secret(cookieSecret):
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge || r.PostFormValue("code") != "the-code":
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
		return
	}
	c := claims{"iss": p.issuer, "sub": p.subject, "aud": []string{firstparty.ClientID}, "nonce": p.nonce,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	if p.edit != nil {
		p.edit(c)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}}, nil)
	if err != nil {
		p.t.Error(err)
		return
	}
	payload, _ := json.Marshal(c)
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Error(err)
		return
	}
	raw, _ := jws.CompactSerialize()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "bearer", "expires_in": 3600, "id_token": raw})
}

// fakeHydra records consent revocations.
type fakeHydra struct{}

func (fakeHydra) RevokeConsent(context.Context, string, string) error { return nil }

// env is a settings handler over a real database and a fake provider.
type env struct {
	t   *testing.T
	db  *storetest.DB
	p   *provider
	srv *httptest.Server
}

const publicURL = "http://auth.test"

// strictLog fails the test on a warning, such as a missing translation.
type strictLog struct{ t *testing.T }

func (h strictLog) Enabled(context.Context, slog.Level) bool { return true }
func (h strictLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn && r.Message == "missing translation" {
		h.t.Errorf("logged %s: %s", r.Level, r.Message)
	}
	return nil
}
func (h strictLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h strictLog) WithGroup(string) slog.Handler      { return h }

func newEnv(t *testing.T) *env {
	db := storetest.New(t)
	p := newProvider(t, publicURL)
	log := slog.New(strictLog{t})
	h := New(Deps{
		Store:        db.Store,
		Revoker:      &revocation.Revoker{Store: db.Store, Hydra: fakeHydra{}, Log: log},
		CSRF:         csrf.New(cookieSecret, false),
		Locale:       locale.MustNew(locale.Options{Log: log}),
		Log:          log,
		SignIn:       SignInConfig{PublicURL: publicURL, HydraPublicURL: p.srv.URL, ClientSecret: firstparty.Secret(cookieSecret)},
		CookieSecret: cookieSecret,
	})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	h.Mount(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &env{t: t, db: db, p: p, srv: srv}
}

// browser is a cookie jar that does not follow redirects.
type browser struct {
	t      *testing.T
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func (b *browser) get(path string) (*http.Response, string) { return b.do(http.MethodGet, path, nil) }

// signIn goes through /settings/login and the callback as the provider's
// user email, the provider's token edited by edit; it returns the
// callback's response.
func (b *browser) signIn(email string, edit func(claims)) (*http.Response, string) {
	b.t.Helper()
	resp, _ := b.get("/settings/login?next=" + url.QueryEscape("/settings"))
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login: %d", resp.StatusCode)
	}
	auth, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	q := auth.Query()
	p := b.e.p
	p.mu.Lock()
	p.challenge, p.nonce, p.subject, p.edit = q.Get("code_challenge"), q.Get("nonce"), b.e.db.Users[email], edit
	p.mu.Unlock()
	return b.get("/settings/callback?code=the-code&state=" + url.QueryEscape(q.Get("state")) + "&iss=" + url.QueryEscape(publicURL))
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()

	resp, _ := b.get("/settings/connections/x?lang=de")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings/login?next="+url.QueryEscape("/settings/connections/x?lang=de") {
		t.Fatalf("signed out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = b.get("/settings/login")
	auth, _ := url.Parse(resp.Header.Get("Location"))
	q := auth.Query()
	if auth.Scheme+"://"+auth.Host+auth.Path != publicURL+"/oauth2/auth" || q.Get("client_id") != firstparty.ClientID ||
		q.Get("response_type") != "code" || q.Get("scope") != "openid" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || len(q.Get("state")) < 20 || len(q.Get("nonce")) < 20 ||
		q.Get("redirect_uri") != publicURL+firstparty.CallbackPath {
		t.Errorf("authorization request %s", auth)
	}

	resp, _ = b.signIn(alice, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings" {
		t.Fatalf("callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.get("/settings")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, alice) {
		t.Fatalf("settings after sign-in: %d %.300s", resp.StatusCode, body)
	}
	// The callback cannot be replayed: its cookie is gone.
	resp, _ = b.get("/settings/callback?code=the-code&state=" + url.QueryEscape(q.Get("state")))
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("replayed callback: %d, want 400", resp.StatusCode)
	}
}

func TestSignInRefusals(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name   string
		edit   func(claims)
		status int
		want   int
	}{
		{"wrong nonce", func(c claims) { c["nonce"] = "another" }, 0, http.StatusBadRequest},
		{"wrong audience", func(c claims) { c["aud"] = []string{"some-mcp-client"} }, 0, http.StatusBadRequest},
		{"wrong issuer", func(c claims) { c["iss"] = "http://evil.test" }, 0, http.StatusBadRequest},
		{"expired", func(c claims) { c["exp"] = time.Now().Add(-time.Hour).Unix() }, 0, http.StatusBadRequest},
		{"code refused", nil, http.StatusBadRequest, http.StatusBadRequest},
		{"provider failing", nil, http.StatusInternalServerError, http.StatusServiceUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.p.mu.Lock()
			e.p.status = tt.status
			e.p.mu.Unlock()
			b := e.browser()
			resp, _ := b.signIn(alice, tt.edit)
			if resp.StatusCode != tt.want {
				t.Errorf("callback: %d, want %d", resp.StatusCode, tt.want)
			}
			if resp, _ := b.get("/settings"); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("signed in after a refused sign-in: %d", resp.StatusCode)
			}
		})
	}
	e.p.mu.Lock()
	e.p.status = 0
	e.p.mu.Unlock()

	b := e.browser()
	b.get("/settings/login")
	for _, q := range []string{"code=the-code&state=forged", "error=access_denied&state=forged"} {
		if resp, _ := b.get("/settings/callback?" + q); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("callback %s: %d, want 400", q, resp.StatusCode)
		}
	}
	e.p.srv.Close() // Hydra down
	resp, _ := e.browser().signIn(alice, nil)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("provider down: %d, want 503", resp.StatusCode)
	}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken returns the CSRF token of the page's form whose action is path.
func formToken(t *testing.T, body, action string) string {
	t.Helper()
	i := strings.Index(body, `action="`+action+`"`)
	if i < 0 {
		t.Fatalf("no form posting to %s in %.500s", action, body)
	}
	m := csrfField.FindStringSubmatch(body[i:])
	if m == nil {
		t.Fatalf("no CSRF token in the form posting to %s", action)
	}
	return m[1]
}

func TestPagesAndRules(t *testing.T) {
	e := newEnv(t)
	db := e.db
	aliceGlobex := db.Connect(t, alice, "globex", "client-a", "invoices:read", "invoices:write")
	aliceAcme := db.Connect(t, alice, "acme", "client-a", "accounting:read")
	bobGlobex := db.Connect(t, bob, "globex", "client-b")

	a := e.browser()
	a.signIn(alice, nil)
	_, body := a.get("/settings")
	for _, want := range []string{aliceGlobex, aliceAcme, "View invoices and estimates", "Create and send invoices and estimates", "Globex", "Acme Corp", "Never"} {
		if !strings.Contains(body, want) {
			t.Errorf("My connections lacks %q", want)
		}
	}
	if strings.Contains(body, bobGlobex) {
		t.Error("alice's page shows bob's connection")
	}

	// A member forging ids: 404 for the page, the confirmation and the post,
	// with or without a token, and nothing of bob's in the answers.
	for _, path := range []string{"/settings/connections/" + bobGlobex, "/settings/connections/" + bobGlobex + "/revoke",
		"/settings/teams/" + db.Teams["globex"], "/settings/teams/" + db.Teams["globex"] + "/members/" + db.Users[bob] + "/remove",
		"/settings/connections/not-a-uuid", "/settings/teams/" + db.Teams["acme"] + "x"} {
		resp, body := a.get(path)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "client-b") || strings.Contains(body, bob) {
			t.Errorf("GET %s as alice: %d", path, resp.StatusCode)
		}
	}
	token := formToken(t, body, "/settings/signout")
	for _, path := range []string{"/settings/connections/" + bobGlobex + "/revoke", "/settings/teams/" + db.Teams["globex"] + "/members/" + db.Users[bob] + "/remove"} {
		if resp, _ := a.do(http.MethodPost, path, url.Values{"csrf_token": {token}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s as alice: %d, want 404", path, resp.StatusCode)
		}
	}
	if db.Revoked(t, bobGlobex) {
		t.Fatal("alice revoked bob's connection")
	}

	// Revoke one, after the confirmation; the token is bound to it.
	_, confirm := a.get("/settings/connections/" + aliceAcme + "/revoke")
	revokeToken := formToken(t, confirm, "/settings/connections/"+aliceAcme+"/revoke")
	if resp, _ := a.do(http.MethodPost, "/settings/connections/"+aliceAcme+"/revoke", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("revoke without a token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := a.do(http.MethodPost, "/settings/connections/"+aliceGlobex+"/revoke", url.Values{"csrf_token": {revokeToken}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("another connection's token: %d, want 403", resp.StatusCode)
	}
	resp, _ := a.do(http.MethodPost, "/settings/connections/"+aliceAcme+"/revoke", url.Values{"csrf_token": {revokeToken}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings?done=revoked" || !db.Revoked(t, aliceAcme) {
		t.Fatalf("revoke: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := a.get("/settings?done=revoked"); !strings.Contains(body, "Access revoked.") || strings.Contains(body, aliceAcme) {
		t.Error("after revoking: no notice, or the connection is still listed")
	}

	// The admin sees and revokes a member's connection into his team.
	b := e.browser()
	b.signIn(bob, nil)
	_, team := b.get("/settings/teams/" + db.Teams["globex"])
	if !strings.Contains(team, aliceGlobex) || !strings.Contains(team, alice) || strings.Contains(team, aliceAcme) {
		t.Errorf("globex page for bob: %.800s", team)
	}
	_, confirm = b.get("/settings/connections/" + aliceGlobex + "/revoke")
	if !strings.Contains(confirm, alice) {
		t.Error("the confirmation does not say whose connection it is")
	}
	resp, _ = b.do(http.MethodPost, "/settings/connections/"+aliceGlobex+"/revoke", url.Values{"csrf_token": {formToken(t, confirm, "/settings/connections/"+aliceGlobex+"/revoke")}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/settings/teams/"+db.Teams["globex"]) || !db.Revoked(t, aliceGlobex) {
		t.Errorf("admin revokes: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The admin removes the member; the member's connections end with it.
	again := db.Connect(t, alice, "globex", "client-c")
	_, confirm = b.get("/settings/teams/" + db.Teams["globex"] + "/members/" + db.Users[alice] + "/remove")
	action := "/settings/teams/" + db.Teams["globex"] + "/members/" + db.Users[alice] + "/remove"
	resp, _ = b.do(http.MethodPost, action, url.Values{"csrf_token": {formToken(t, confirm, action)}})
	if resp.StatusCode != http.StatusSeeOther || !db.Revoked(t, again) {
		t.Errorf("remove member: %d; connection revoked %v", resp.StatusCode, db.Revoked(t, again))
	}
	if _, err := db.Store.TeamOfMember(t.Context(), db.Users[alice], db.Teams["globex"]); !errors.Is(err, store.ErrNotFound) {
		t.Error("alice is still a member of globex")
	}

	// The last owner may not leave.
	_, confirm = a.get("/settings/teams/" + db.Teams["acme"] + "/leave")
	action = "/settings/teams/" + db.Teams["acme"] + "/leave"
	if resp, _ := a.do(http.MethodPost, action, url.Values{"csrf_token": {formToken(t, confirm, action)}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("last owner leaves: %d, want 409", resp.StatusCode)
	}

	// Sign out ends the settings session and goes on to Hydra's logout.
	_, body = a.get("/settings")
	resp, _ = a.do(http.MethodPost, "/settings/signout", url.Values{"csrf_token": {formToken(t, body, "/settings/signout")}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/oauth2/sessions/logout" {
		t.Errorf("sign out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := a.get("/settings"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign out: %d, want the sign-in", resp.StatusCode)
	}
}

// inline matches what the Content-Security-Policy would block.
var inline = regexp.MustCompile(`(?i)<script|\son[a-z]+=|\sstyle=|<style|javascript:`)

// TestPagesInEveryLanguage renders every settings page with data in each
// language: no message missing (strictLog), nothing inline.
func TestPagesInEveryLanguage(t *testing.T) {
	e := newEnv(t)
	db := e.db
	conn := db.Connect(t, alice, "globex", "client-a", "invoices:read", "accounting:write")
	bobs := db.Connect(t, bob, "globex", "client-b", "invoices:read")
	if _, err := db.Pool.Exec(t.Context(), `INSERT INTO audit_events (at, user_id, team_id, client_id, connection_id, tool, outcome, duration_us)
		SELECT now(), $1, $2, 'client-a', $3, 'list_invoices', o, 1234 FROM unnest(ARRAY['ok','tool_error','error','denied','unavailable']) o`,
		db.Users[alice], db.Teams["globex"], conn); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn(bob, nil)
	for _, lang := range []string{"en", "de", "fr"} {
		for _, path := range []string{"/settings", "/settings/connections/" + conn, "/settings/connections/" + conn + "/revoke",
			"/settings/teams/" + db.Teams["globex"], "/settings/teams/" + db.Teams["globex"] + "/members/" + db.Users[alice] + "/remove",
			"/settings/teams/" + db.Teams["globex"] + "/leave", "/settings/revoke-all", "/settings/connections/" + db.Teams["acme"],
			"/settings/connections/" + bobs + "/grant?scope=invoices:write", "/settings/connections/" + bobs + "/grant?scope=invoices:read"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			resp, body := b.get(path + sep + "lang=" + lang + "&done=revoked")
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s in %s: %d", path, lang, resp.StatusCode)
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s in %s: not in that language", path, lang)
			}
			if m := inline.FindString(body); m != "" {
				t.Errorf("%s in %s: inline %q", path, lang, m)
			}
		}
	}
	_, body := b.get("/settings/connections/" + conn + "?lang=de")
	if !strings.Contains(body, "1,2 ms") || !strings.Contains(body, "Verweigert: Berechtigung fehlt") {
		t.Errorf("German activity view lacks the localized duration or outcome")
	}
}

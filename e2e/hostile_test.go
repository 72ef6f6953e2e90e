package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/browser"
	"github.com/mcp-oauth/e2e/stack"
)

// hostileCase is one request an attacker or a broken client might send, and
// the answer it must get: status and the error it must carry (in the body,
// the Location or the WWW-Authenticate challenge). Every answer is also
// checked for what it must never hold: a 5xx, a stack trace, a secret.
type hostileCase struct {
	name   string
	status int
	want   string
	send   func(t *testing.T) reply
}

// reply is the answer to a hostile request.
type reply struct {
	status int
	header http.Header
	body   string
}

// text is where a case's expected error may appear.
func (r reply) text() string {
	return r.header.Get("Location") + "\n" + r.header.Get("WWW-Authenticate") + "\n" + r.body
}

// everything is every byte of the answer a client sees.
func (r reply) everything() string {
	var sb strings.Builder
	for name, vals := range r.header {
		sb.WriteString(name + ": " + strings.Join(vals, ", ") + "\n")
	}
	return sb.String() + r.body
}

// stackTraceMarks betray a Go stack trace or panic message.
var stackTraceMarks = []string{"goroutine ", "panic", ".go:", "runtime/", "runtime error"}

// TestHostileInput is the hostile-input matrix against the real stack:
// registration, authorization, sign-in, consent and the MCP endpoint, each
// fed what it must refuse.
func TestHostileInput(t *testing.T) {
	k := newKit(t, st)
	cases := slices.Concat(k.registrationCases(), k.authorizeCases(), k.tokenCases(), k.loginCases(), k.consentCases(),
		k.settingsCases(), k.mcpCases())
	if len(cases) < 60 {
		t.Fatalf("the matrix has %d cases; it must have at least 60", len(cases))
	}
	t.Logf("%d hostile cases", len(cases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.send(t)
			k.check(t, c, r)
		})
	}
	// What the servers logged about all of it quotes no credential.
	k.checkLogs(t)
}

func (k *kit) check(t *testing.T, c hostileCase, r reply) {
	t.Helper()
	all := r.everything()
	excerpt := r.body
	if len(excerpt) > 400 {
		excerpt = excerpt[:400] + "…"
	}
	if r.status >= 500 {
		t.Errorf("HTTP %d: a client's request answered as a server failure: %s", r.status, excerpt)
	}
	if r.status != c.status {
		t.Errorf("HTTP %d, want %d; Location %q; body %s", r.status, c.status, r.header.Get("Location"), excerpt)
	}
	if !strings.Contains(r.text(), c.want) {
		t.Errorf("the answer lacks %q; Location %q; body %s", c.want, r.header.Get("Location"), excerpt)
	}
	for _, m := range stackTraceMarks {
		if strings.Contains(all, m) {
			t.Errorf("the answer holds %q, a stack trace's mark: %s", m, excerpt)
		}
	}
	for _, s := range k.secrets {
		if strings.Contains(all, s.value) {
			t.Errorf("the answer holds %s", s.name)
		}
	}
}

// checkLogs fails when a log line of the stack's servers holds a credential:
// a token, a code, a password, a client secret or one of the stack's own
// secrets.
func (k *kit) checkLogs(t *testing.T) {
	t.Helper()
	files, err := k.st.LogFiles()
	if err != nil || len(files) == 0 {
		t.Fatalf("no server logs in %s (%v)", k.st.LogDir, err)
	}
	scan, err := scanLogs(files, k.secrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range scan.findings {
		t.Error(f)
	}
	if scan.debug == 0 {
		t.Error("no debug-level line in the logs: the scan must read the servers at LOG_LEVEL=debug")
	}
	t.Logf("no credential in %d log lines of %d files (%d at debug level)", scan.lines, scan.files, scan.debug)
}

// matrixAddr is the loopback address the matrix sends from (all of 127/8
// is loopback on Linux): its failed sign-ins count against an address of
// their own in the sign-in throttle, not against the one other tests use.
const matrixAddr = "127.0.0.77"

// kit is the matrix's shared fixture.
type kit struct {
	t  *testing.T
	st *stack.Stack
	hc *http.Client // from matrixAddr; follows no redirects
	// client is a public client registered through our front.
	clientID, redirect string
	acmeID, globexID   string
	acmeInvoiceID      string
	secrets            []secret
}

// secret is something no answer may contain, and what to call it in a
// failure (never the value itself). A credential must not be in a log line
// either.
type secret struct {
	name, value string
	credential  bool
}

var bob = person{email: demo.Bob.Email, password: demo.Bob.Password}

func newKit(t *testing.T, s *stack.Stack) *kit {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(matrixAddr)}, Timeout: 10 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	k := &kit{
		t:        t,
		st:       s,
		hc:       &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		redirect: "http://127.0.0.1:53682/callback",
	}
	k.secrets = stackSecrets(s)
	k.addInternal("a database URL", "postgres://")
	k.addInternal("the app database's name", stack.DatabaseName(k.st.AppDatabaseURL))
	k.addInternal("the Hydra database's name", stack.DatabaseName(k.st.HydraDatabaseURL))
	k.addInternal("the Hydra admin URL", k.st.HydraAdminURL)

	reg := k.registerOK(t, map[string]any{"client_name": "hostile matrix", "redirect_uris": []string{k.redirect}, "token_endpoint_auth_method": "none"})
	k.clientID = reg.ClientID
	k.queryRow(t, `SELECT (SELECT id::text FROM teams WHERE slug = 'acme'), (SELECT id::text FROM teams WHERE slug = 'globex')`, nil, &k.acmeID, &k.globexID)
	k.queryRow(t, `SELECT id::text FROM invoices WHERE team_id = $1 ORDER BY number LIMIT 1`, []any{k.acmeID}, &k.acmeInvoiceID)
	return k
}

// addSecret adds a credential: never in an answer or a log line.
func (k *kit) addSecret(name, value string) {
	if value != "" {
		k.secrets = append(k.secrets, secret{name, value, true})
	}
}

// addInternal adds an internal detail (an address, a database name): never
// in an answer, though the servers' logs may name it.
func (k *kit) addInternal(name, value string) {
	if value != "" {
		k.secrets = append(k.secrets, secret{name, value, false})
	}
}

// queryRow runs sql on the stack's app database.
func (k *kit) queryRow(t *testing.T, sql string, args []any, dest ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), k.st.AppDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// do sends req from the matrix address and reads the answer.
func (k *kit) do(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := k.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (k *kit) post(t *testing.T, u, contentType string, body []byte) reply {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return k.do(t, req)
}

func (k *kit) get(t *testing.T, u string) reply {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	return k.do(t, req)
}

// browser is a fresh browser sending from the matrix address.
func (k *kit) browser(t *testing.T) *browser.Browser {
	t.Helper()
	return k.newBrowser()
}

func (k *kit) newBrowser() *browser.Browser {
	b, _ := browser.New(k.st.IssuerURL) // a URL the stack made
	b.SetTransport(k.hc.Transport)
	return b
}

// page turns a browser page into a reply: a redirect that left the origin
// keeps its target as the Location. A request that failed is a reply
// without a status, which no case expects.
func page(p *browser.Page, err error) reply {
	if err != nil {
		return reply{header: http.Header{}, body: "the request failed: " + err.Error()}
	}
	r := reply{status: p.Status, header: http.Header{}, body: p.Body}
	if p.LeftOrigin != nil {
		r.header.Set("Location", p.LeftOrigin.String())
	}
	return r
}

// ---- Registration -----------------------------------------------------

type registration struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Scope        string `json:"scope"`
}

func (k *kit) register(t *testing.T, body any) reply {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	return k.post(t, k.st.IssuerURL+"/oauth2/register", "application/json", raw)
}

func (k *kit) registerOK(t *testing.T, body map[string]any) registration {
	t.Helper()
	r := k.register(t, body)
	var reg registration
	if r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &reg) != nil || reg.ClientID == "" {
		t.Fatalf("register %v: HTTP %d %s", body, r.status, r.body)
	}
	k.addSecret("a client secret", reg.ClientSecret)
	return reg
}

// metadata is a valid registration with edit applied.
func metadata(edit func(m map[string]any)) map[string]any {
	m := map[string]any{
		"client_name":                "hostile",
		"redirect_uris":              []string{"http://127.0.0.1:53682/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	}
	edit(m)
	return m
}

func redirects(uris ...string) func(map[string]any) {
	return func(m map[string]any) { m["redirect_uris"] = uris }
}

func set(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

func (k *kit) registrationCases() []hostileCase {
	const bad, badURI = "invalid_client_metadata", "invalid_redirect_uri"
	reg := func(name string, status int, want string, body any) hostileCase {
		return hostileCase{"registration/" + name, status, want, func(t *testing.T) reply { return k.register(t, body) }}
	}
	many := make([]string, 1000)
	for i := range many {
		many[i] = fmt.Sprintf("http://127.0.0.1:%d/callback", 1024+i)
	}
	deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	return []hostileCase{
		reg("javascript redirect", 400, badURI, metadata(redirects("javascript:alert(document.cookie)"))),
		reg("javascript redirect in capitals", 400, badURI, metadata(redirects("JavaScript://%0aalert(1)"))),
		reg("data redirect", 400, badURI, metadata(redirects("data:text/html,<script>alert(1)</script>"))),
		reg("vbscript redirect", 400, badURI, metadata(redirects("vbscript:msgbox(1)"))),
		reg("file redirect", 400, badURI, metadata(redirects("file:///etc/passwd"))),
		reg("http on a public host", 400, badURI, metadata(redirects("http://attacker.example/callback"))),
		reg("http on a name that starts like localhost", 400, badURI, metadata(redirects("http://localhost.attacker.example/callback"))),
		reg("http on a name that starts like 127.0.0.1", 400, badURI, metadata(redirects("http://127.0.0.1.nip.io/callback"))),
		reg("fragment", 400, badURI, metadata(redirects("https://app.example/callback#token"))),
		reg("empty fragment", 400, badURI, metadata(redirects("https://app.example/callback#"))),
		reg("relative redirect", 400, badURI, metadata(redirects("/callback"))),
		reg("user information in the redirect", 400, badURI, metadata(redirects("https://app.example@attacker.example/callback"))),
		reg("no redirect", 400, badURI, metadata(redirects())),
		reg("1000 redirect URIs", 400, badURI, metadata(redirects(many...))),
		reg("2 MB body", 413, bad, metadata(set("client_name", strings.Repeat("x", 2<<20)))),
		reg("client_credentials", 400, bad, metadata(set("grant_types", []string{"client_credentials"}))),
		reg("client_credentials beside authorization_code", 400, bad, metadata(set("grant_types", []string{"authorization_code", "client_credentials"}))),
		reg("implicit grant", 400, bad, metadata(set("grant_types", []string{"implicit"}))),
		reg("token response type", 400, bad, metadata(set("response_types", []string{"token"}))),
		reg("chosen client secret", 400, "client_secret is assigned by this server", metadata(set("client_secret", "my-own-secret-0123456789"))),
		reg("chosen client id", 400, "client_id is assigned by this server", metadata(set("client_id", "hostile-chosen-id"))),
		reg("chosen audience", 400, "audience is assigned by this server", metadata(set("audience", []string{"https://other.example/api"}))),
		reg("jwks_uri", 400, "jwks_uri is assigned by this server", metadata(set("jwks_uri", "https://attacker.example/jwks"))),
		reg("private_key_jwt", 400, bad, metadata(set("token_endpoint_auth_method", "private_key_jwt"))),
		reg("redirect_uris of the wrong type", 400, "redirect_uris", metadata(set("redirect_uris", "http://127.0.0.1/cb"))),
		reg("client_name of 10,000 characters", 400, bad, metadata(set("client_name", strings.Repeat("n", 10000)))),
		reg("client_uri javascript", 400, bad, metadata(set("client_uri", "javascript:alert(1)"))),
		reg("logo_uri http", 400, bad, metadata(set("logo_uri", "http://attacker.example/logo.png"))),
		reg("not JSON", 400, bad, []byte("client_name=x&redirect_uris=http://127.0.0.1/cb")),
		reg("a JSON array", 400, bad, []byte(`[{"redirect_uris":["http://127.0.0.1/cb"]}]`)),
		reg("JSON nested 20,000 deep", 400, bad, []byte(deep)),
		reg("NUL in client_name", 400, bad, metadata(set("client_name", "evil\x00name"))),
		reg("bidi override in client_name", 400, bad, metadata(set("client_name", "Claude\u202egnp.exe"))),
		{"registration/scope beyond the catalog is not granted", 201, `"scope":"`, func(t *testing.T) reply {
			r := k.register(t, metadata(set("scope", "hydra.admin openid invoices:read")))
			if strings.Contains(r.body, "hydra.admin") || strings.Contains(r.body, "openid") {
				t.Errorf("the client got scopes outside the catalog: %s", r.body)
			}
			return r
		}},
		{"registration/unknown member not stored", 201, `"client_id"`, func(t *testing.T) reply {
			r := k.register(t, metadata(set("x_unknown_member", "x-unknown-value")))
			if strings.Contains(r.body, "x-unknown-value") {
				t.Errorf("the unknown member was echoed: %s", r.body)
			}
			return r
		}},
	}
}

// ---- Authorization ----------------------------------------------------

// authURL is a valid authorization request of the kit's client (S256 PKCE
// for verifier, the MCP resource) with edit applied.
func (k *kit) authURL(verifier string, edit func(q url.Values)) string {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {k.clientID},
		"redirect_uri":          {k.redirect},
		"scope":                 {"invoices:read offline_access"},
		"state":                 {rand.Text()},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
		"resource":              {k.st.MCPURL},
	}
	if edit != nil {
		edit(q)
	}
	return k.st.IssuerURL + "/oauth2/auth?" + q.Encode()
}

// authorize opens an edited authorization request in a fresh browser and
// signs in as p when the sign-in form comes: a request refused before or
// at sign-in ends where it was refused.
func (k *kit) authorize(t *testing.T, edit func(url.Values)) reply {
	t.Helper()
	b := k.browser(t)
	p, err := b.Get(k.authURL(oauth2.GenerateVerifier(), edit))
	if err == nil && p.LeftOrigin == nil && p.Status == http.StatusOK {
		f, ferr := p.Form("password")
		if ferr != nil {
			t.Fatal(ferr)
		}
		f.Values.Set("email", alice.email)
		f.Values.Set("password", alice.password)
		p, err = b.Submit(f, "", "")
	}
	return page(p, err)
}

func (k *kit) authorizeCases() []hostileCase {
	az := func(name string, status int, want string, edit func(url.Values)) hostileCase {
		return hostileCase{"authorize/" + name, status, want, func(t *testing.T) reply { return k.authorize(t, edit) }}
	}
	del := func(keys ...string) func(url.Values) {
		return func(q url.Values) {
			for _, key := range keys {
				q.Del(key)
			}
		}
	}
	with := func(key, value string) func(url.Values) { return func(q url.Values) { q.Set(key, value) } }
	return []hostileCase{
		az("no PKCE", 303, "error=invalid_request", del("code_challenge", "code_challenge_method")),
		az("PKCE plain", 303, "error=invalid_request", with("code_challenge_method", "plain")),
		az("PKCE challenge without method (plain by default)", 303, "error=invalid_request", del("code_challenge_method")),
		az("resource of another server", 303, "error=invalid_target", with("resource", "https://attacker.example/mcp")),
		az("resource spelled with 127.0.0.1", 303, "error=invalid_target", with("resource", strings.Replace(k.st.MCPURL, "localhost", "127.0.0.1", 1))),
		az("resource with a trailing slash", 303, "error=invalid_target", with("resource", k.st.MCPURL+"/")),
		az("our resource, then another", 303, "error=invalid_target", func(q url.Values) { q["resource"] = []string{k.st.MCPURL, "https://attacker.example/mcp"} }),
		az("empty resource", 303, "error=invalid_target", with("resource", "")),
		az("unknown client", 400, "Could not connect the app", with("client_id", "no-such-client")),
		az("client id that is a javascript URL", 400, "Could not connect the app", with("client_id", "javascript:alert(1)")),
		az("mismatched redirect", 400, "Could not connect the app", with("redirect_uri", "https://attacker.example/callback")),
		az("redirect with an extra path", 400, "Could not connect the app", with("redirect_uri", "http://127.0.0.1:53682/callback/../steal")),
		az("redirect with a query added", 400, "Could not connect the app", with("redirect_uri", "http://127.0.0.1:53682/callback?next=https://attacker.example")),
		az("implicit flow", 303, "error=unsupported_response_type", with("response_type", "token")),
		az("fragment response mode", 400, "response_mode=fragment is not supported", with("response_mode", "fragment")),
		az("form_post response mode", 400, "response_mode=form_post is not supported", with("response_mode", "form_post")),
		az("client_id URL on a public http host", 400, "must use https", with("client_id", "http://attacker.example/client.json")),
		az("client_id URL on a private network", 400, "Could not identify the app", with("client_id", "https://10.0.0.1/client.json")),
		az("client_id URL with invalid UTF-8", 400, "Could not identify the app", with("client_id", "https://"+clientDocs.host()+"/\xff.json")),
		az("client_id URL with a NUL", 400, "Could not identify the app", with("client_id", "https://"+clientDocs.host()+"/a\x00.json")),
		az("short state", 303, "error=invalid_state", with("state", "abc")),
	}
}

// tokenRequest posts a form to the token endpoint.
func (k *kit) tokenRequest(t *testing.T, form url.Values) reply {
	t.Helper()
	return k.post(t, k.st.IssuerURL+"/oauth2/token", "application/x-www-form-urlencoded", []byte(form.Encode()))
}

// code approves the kit's client as alice and returns the code and its
// PKCE verifier, unredeemed.
func (k *kit) code(t *testing.T) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	pg, err := k.approval(k.clientID, as(alice, demo.Acme.Name), "invoices:read offline_access", verifier)
	if err != nil || pg.LeftOrigin == nil || pg.LeftOrigin.Query().Get("code") == "" {
		t.Fatalf("approval: %v %+v", err, pg)
	}
	code = pg.LeftOrigin.Query().Get("code")
	k.addSecret("an authorization code", code)
	return code, verifier
}

func (k *kit) tokenCases() []hostileCase {
	redeem := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {k.redirect}, "client_id": {k.clientID}}
	}
	return []hostileCase{
		{"token/replayed code", 400, "invalid_grant", func(t *testing.T) reply {
			code, verifier := k.code(t)
			if r := k.tokenRequest(t, redeem(code, verifier)); r.status != http.StatusOK {
				t.Fatalf("first redemption: HTTP %d %s", r.status, r.body)
			}
			return k.tokenRequest(t, redeem(code, verifier))
		}},
		{"token/wrong code_verifier", 400, "invalid_grant", func(t *testing.T) reply {
			code, _ := k.code(t)
			return k.tokenRequest(t, redeem(code, oauth2.GenerateVerifier()))
		}},
		{"token/no code_verifier", 400, "invalid_grant", func(t *testing.T) reply {
			code, _ := k.code(t)
			f := redeem(code, "")
			f.Del("code_verifier")
			return k.tokenRequest(t, f)
		}},
		{"token/another redirect_uri", 400, "invalid_grant", func(t *testing.T) reply {
			code, verifier := k.code(t)
			f := redeem(code, verifier)
			f.Set("redirect_uri", "http://127.0.0.1:53682/other")
			return k.tokenRequest(t, f)
		}},
		{"token/forged code", 400, "invalid_grant", func(t *testing.T) reply {
			return k.tokenRequest(t, redeem("ory_ac_"+rand.Text()+"."+rand.Text(), oauth2.GenerateVerifier()))
		}},
		{"token/client_credentials", 400, "invalid_grant", func(t *testing.T) reply {
			return k.tokenRequest(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {k.clientID}, "scope": {"invoices:read"}})
		}},
		{"token/password grant", 400, "invalid_request", func(t *testing.T) reply {
			return k.tokenRequest(t, url.Values{"grant_type": {"password"}, "client_id": {k.clientID}, "username": {alice.email}, "password": {alice.password}})
		}},
		{"token/body over 64 KB", 413, "invalid_request", func(t *testing.T) reply {
			return k.tokenRequest(t, url.Values{"grant_type": {"authorization_code"}, "code": {strings.Repeat("c", 70<<10)}})
		}},
	}
}

// ---- Sign-in ----------------------------------------------------------

// loginForm starts an authorization in b and returns the sign-in form.
func (k *kit) loginForm(t *testing.T, b *browser.Browser) *browser.Form {
	t.Helper()
	return k.loginFormFor(t, b, oauth2.GenerateVerifier())
}

// loginFormFor is loginForm for a flow whose PKCE verifier is verifier.
func (k *kit) loginFormFor(t *testing.T, b *browser.Browser, verifier string) *browser.Form {
	t.Helper()
	p, err := b.Get(k.authURL(verifier, nil))
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.Form("password")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// signIn posts the sign-in form of a fresh flow with email and password.
func (k *kit) signIn(t *testing.T, email, password string) reply {
	t.Helper()
	b := k.browser(t)
	f := k.loginForm(t, b)
	f.Values.Set("email", email)
	f.Values.Set("password", password)
	return page(b.Submit(f, "", ""))
}

func (k *kit) loginCases() []hostileCase {
	const wrong, csrfFailed, expired = "The email address or password is incorrect.", "Security check failed", "This link has expired"
	login := func(name, email, password string) hostileCase {
		return hostileCase{"login/" + name, 401, wrong, func(t *testing.T) reply { return k.signIn(t, email, password) }}
	}
	form := func(name string, status int, want string, edit func(t *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser) hostileCase {
		return hostileCase{"login/" + name, status, want, func(t *testing.T) reply {
			b := k.browser(t)
			f := k.loginForm(t, b)
			f.Values.Set("email", alice.email)
			f.Values.Set("password", alice.password)
			return page(edit(t, b, f).Submit(f, "", ""))
		}}
	}
	return []hostileCase{
		form("missing CSRF token", 403, csrfFailed, func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Del("csrf_token")
			return b
		}),
		form("wrong CSRF token", 403, csrfFailed, func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("csrf_token", strings.Repeat("A", 43))
			return b
		}),
		form("CSRF token of another challenge", 403, csrfFailed, func(t *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			other := k.loginForm(t, b)
			f.Values.Set("csrf_token", other.Values.Get("csrf_token"))
			return b
		}),
		form("form posted from another browser", 403, csrfFailed, func(t *testing.T, _ *browser.Browser, f *browser.Form) *browser.Browser {
			return k.browser(t)
		}),
		form("foreign login_challenge", 403, csrfFailed, func(t *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			other := k.loginForm(t, k.browser(t))
			f.Values.Set("login_challenge", other.Values.Get("login_challenge"))
			return b
		}),
		form("forged login_challenge", 403, csrfFailed, func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("login_challenge", "forged-"+rand.Text())
			return b
		}),
		{"login/another browser's login_challenge", 303, "error=request_forbidden", func(t *testing.T) reply {
			// The challenge is readable by whoever holds it, but Hydra ties
			// the flow to the browser that started it: signing in with it
			// elsewhere gets no further.
			victim := k.loginForm(t, k.browser(t))
			b := k.browser(t)
			p, err := b.Get(k.st.IssuerURL + "/login?login_challenge=" + url.QueryEscape(victim.Values.Get("login_challenge")))
			if err != nil {
				t.Fatal(err)
			}
			f, err := p.Form("password")
			if err != nil {
				t.Fatal(err)
			}
			f.Values.Set("email", alice.email)
			f.Values.Set("password", alice.password)
			return page(b.Submit(f, "", ""))
		}},
		{"login/replayed login_challenge", 303, "error=request_forbidden", func(t *testing.T) reply {
			// A used challenge leaks (a log, a shoulder): Hydra v2.3 keeps
			// the flow in the challenge, so the form shows again, but the
			// flow stays tied to the browser that started it.
			b := k.browser(t)
			f := k.loginForm(t, b)
			f.Values.Set("email", alice.email)
			f.Values.Set("password", alice.password)
			if r := page(b.Submit(f, "", "")); r.status != http.StatusOK || !strings.Contains(r.body, "consent_challenge") {
				t.Fatalf("sign-in: HTTP %d", r.status)
			}
			thief := k.browser(t)
			p, err := thief.Get(k.st.IssuerURL + "/login?login_challenge=" + url.QueryEscape(f.Values.Get("login_challenge")))
			if err != nil || p.Status != http.StatusOK {
				return page(p, err)
			}
			again, err := p.Form("password")
			if err != nil {
				t.Fatal(err)
			}
			again.Values.Set("email", bob.email)
			again.Values.Set("password", bob.password)
			return page(thief.Submit(again, "", ""))
		}},
		{"login/replayed sign-in form", 403, csrfFailed, func(t *testing.T) reply {
			b := k.browser(t)
			f := k.loginForm(t, b)
			f.Values.Set("email", alice.email)
			f.Values.Set("password", alice.password)
			if r := page(b.Submit(f, "", "")); r.status != http.StatusOK {
				t.Fatalf("sign-in: HTTP %d", r.status)
			}
			return page(b.Submit(f, "", ""))
		}},
		{"login/unknown login_challenge", 400, expired, func(t *testing.T) reply {
			return page(k.browser(t).Get(k.st.IssuerURL + "/login?login_challenge=forged-" + rand.Text()))
		}},
		{"login/no login_challenge", 400, "Link incomplete", func(t *testing.T) reply {
			return page(k.browser(t).Get(k.st.IssuerURL + "/login"))
		}},
		{"login/empty post", 403, csrfFailed, func(t *testing.T) reply {
			return k.post(t, k.st.IssuerURL+"/login", "application/x-www-form-urlencoded", nil)
		}},
		login("1 MB password", alice.email, strings.Repeat("p", 1<<20)),
		login("control characters in the password", alice.email, "alice-demo-password\x00\r\n\x1b[2J"),
		login("SQL in the password", alice.email, "' OR '1'='1' --"),
		login("SQL in the email", "' OR 1=1; DROP TABLE users; --", "x"),
		login("NUL in the email", "alice@example.com\x00", alice.password),
		login("CRLF in the email", "alice@example.com\r\nX-Injected: 1", alice.password),
		login("invalid UTF-8 in the email", "alice\xff\xfe@example.com", alice.password),
		login("Cyrillic a in the email", "\u0430lice@example.com", alice.password),
		login("fullwidth letters in the email", "\uff41\uff4c\uff49\uff43\uff45@example.com", alice.password),
		login("zero-width space in the email", "alice\u200b@example.com", alice.password),
		login("email of 10,000 characters", strings.Repeat("a", 10000)+"@example.com", "x"),
	}
}

// ---- Consent ----------------------------------------------------------

// consentForm signs p in on a fresh flow in b and returns the consent form.
func (k *kit) consentForm(t *testing.T, b *browser.Browser, p person) *browser.Form {
	t.Helper()
	return k.consentFormFor(t, b, p, oauth2.GenerateVerifier())
}

// consentFormFor is consentForm for a flow whose PKCE verifier is verifier.
func (k *kit) consentFormFor(t *testing.T, b *browser.Browser, p person, verifier string) *browser.Form {
	t.Helper()
	f := k.loginFormFor(t, b, verifier)
	f.Values.Set("email", p.email)
	f.Values.Set("password", p.password)
	pg, err := b.Submit(f, "", "")
	if err != nil {
		t.Fatal(err)
	}
	cf, err := pg.Form("consent_challenge")
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

// connections counts p's connections.
func (k *kit) connections(t *testing.T, p person) int {
	t.Helper()
	var n int
	k.queryRow(t, `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id WHERE u.email = $1`, []any{p.email}, &n)
	return n
}

func (k *kit) consentCases() []hostileCase {
	const noTeam, csrfFailed, expired = "Choose one of your teams to connect.", "Security check failed", "This link has expired"
	// consent posts p's consent form, edited, with Allow; nothing may be
	// granted unless grants says so.
	consent := func(name string, p person, status int, want string, edit func(t *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser) hostileCase {
		return hostileCase{"consent/" + name, status, want, func(t *testing.T) reply {
			b := k.browser(t)
			f := k.consentForm(t, b, p)
			before := k.connections(t, p)
			r := page(edit(t, b, f).Submit(f, "action", "allow"))
			if after := k.connections(t, p); after != before {
				t.Errorf("%s's connections went from %d to %d", p.email, before, after)
			}
			return r
		}}
	}
	team := func(id string) func(*testing.T, *browser.Browser, *browser.Form) *browser.Browser {
		return func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("team_id", id)
			return b
		}
	}
	return []hostileCase{
		consent("a team the user is not in", bob, 400, noTeam, func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("team_id", k.acmeID)
			return b
		}),
		consent("a forged team id", alice, 400, noTeam, team("99999999-9999-4999-8999-999999999999")),
		consent("SQL as the team id", alice, 400, noTeam, team("' OR 1=1 --")),
		consent("no team", alice, 400, noTeam, team("")),
		consent("missing CSRF token", alice, 403, csrfFailed, func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("team_id", k.acmeID)
			f.Values.Del("csrf_token")
			return b
		}),
		consent("CSRF token of the sign-in step", alice, 403, csrfFailed, func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("team_id", k.acmeID)
			f.Values.Set("csrf_token", strings.Repeat("B", 43))
			return b
		}),
		consent("form posted from another browser", alice, 403, csrfFailed, func(t *testing.T, _ *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("team_id", k.acmeID)
			return k.browser(t)
		}),
		consent("forged consent_challenge", alice, 403, csrfFailed, func(_ *testing.T, b *browser.Browser, f *browser.Form) *browser.Browser {
			f.Values.Set("team_id", k.acmeID)
			f.Values.Set("consent_challenge", "forged-"+rand.Text())
			return b
		}),
		{"consent/replayed challenge", 303, "error=access_denied", func(t *testing.T) reply {
			b := k.browser(t)
			f := k.consentForm(t, b, alice)
			f.Values.Set("team_id", k.acmeID)
			if r := page(b.Submit(f, "action", "allow")); !strings.Contains(r.header.Get("Location"), "code=") {
				t.Fatalf("first approval: HTTP %d, Location %q", r.status, r.header.Get("Location"))
			}
			before := k.connections(t, alice)
			r := page(b.Submit(f, "action", "allow"))
			if after := k.connections(t, alice); after != before {
				t.Errorf("the replay added %d connections", after-before)
			}
			return r
		}},
		{"consent/another user's challenge", 303, "error=request_forbidden", func(t *testing.T) reply {
			// Bob gets hold of alice's consent challenge and approves it in
			// his own browser: he must get no code, and alice no connection
			// she did not approve.
			victim := k.consentForm(t, k.browser(t), alice)
			before := k.connections(t, alice)
			b := k.browser(t)
			p, err := b.Get(k.st.IssuerURL + "/consent?consent_challenge=" + url.QueryEscape(victim.Values.Get("consent_challenge")))
			if err != nil {
				t.Fatal(err)
			}
			r := page(p, nil)
			if f, ferr := p.Form("consent_challenge"); ferr == nil {
				f.Values.Set("team_id", k.acmeID)
				r = page(b.Submit(f, "action", "allow"))
			}
			if after := k.connections(t, alice); after != before {
				t.Errorf("alice's connections went from %d to %d", before, after)
			}
			return r
		}},
		{"consent/unknown consent_challenge", 400, expired, func(t *testing.T) reply {
			return page(k.browser(t).Get(k.st.IssuerURL + "/consent?consent_challenge=forged-" + rand.Text()))
		}},
		{"consent/login challenge as consent challenge", 400, expired, func(t *testing.T) reply {
			b := k.browser(t)
			f := k.loginForm(t, b)
			return page(b.Get(k.st.IssuerURL + "/consent?consent_challenge=" + url.QueryEscape(f.Values.Get("login_challenge"))))
		}},
		{"consent/no consent_challenge", 400, "Link incomplete", func(t *testing.T) reply {
			return page(k.browser(t).Get(k.st.IssuerURL + "/consent"))
		}},
	}
}

// ---- Settings ---------------------------------------------------------

// settingsBrowser signs p in to the settings pages in a fresh browser.
func (k *kit) settingsBrowser(t *testing.T, p person) *browser.Browser {
	t.Helper()
	b := k.browser(t)
	page, err := b.Get(k.st.IssuerURL + "/settings")
	if err != nil {
		t.Fatal(err)
	}
	f, err := page.Form("password")
	if err != nil {
		t.Fatal(err)
	}
	f.Values.Set("email", p.email)
	f.Values.Set("password", p.password)
	if page, err = b.Submit(f, "", ""); err != nil || page.Status != http.StatusOK || page.URL.Path != "/settings" {
		t.Fatalf("settings sign-in as %s: %v %+v", p.email, err, page)
	}
	return b
}

// settingsCases try the settings pages with ids that are not the viewer's:
// another user's connection, another team. Each is not found, exactly like
// an id that does not exist, and changes nothing.
func (k *kit) settingsCases() []hostileCase {
	t := k.t
	victim := k.token(t, as(alice, demo.Acme.Name), "invoices:read")
	conn, _ := k.introspectExt(t, victim.AccessToken)[contract.ClaimConnectionID].(string)
	var aliceID string
	k.queryRow(t, `SELECT id::text FROM users WHERE email = $1`, []any{alice.email}, &aliceID)
	bobB := k.settingsBrowser(t, bob)
	aliceB := k.settingsBrowser(t, alice)
	carolB := k.settingsBrowser(t, carol)
	k.addSecret("carol's password", carol.password)

	const notFound = "Not found"
	// untouched checks that alice's connection survived the attempt.
	untouched := func(t *testing.T, r reply) reply {
		t.Helper()
		var revoked bool
		k.queryRow(t, `SELECT revoked_at IS NOT NULL FROM connections WHERE id = $1`, []any{conn}, &revoked)
		if revoked {
			t.Fatal("alice's connection was revoked by someone else")
		}
		return r
	}
	getAs := func(name string, b *browser.Browser, status int, want, path string) hostileCase {
		return hostileCase{"settings/" + name, status, want, func(t *testing.T) reply {
			return untouched(t, page(b.Get(k.st.IssuerURL+path)))
		}}
	}
	postAs := func(name string, b *browser.Browser, status int, want, path string) hostileCase {
		return hostileCase{"settings/" + name, status, want, func(t *testing.T) reply {
			// A token for one of bob's own forms: the id must be refused
			// before the token is even looked at.
			own := page(b.Get(k.st.IssuerURL + "/settings/revoke-all"))
			token := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(own.body)
			form := url.Values{"csrf_token": {""}}
			if token != nil {
				form.Set("csrf_token", token[1])
			}
			p, err := b.Post(k.st.IssuerURL+path, form)
			return untouched(t, page(p, err))
		}}
	}
	return []hostileCase{
		getAs("another user's connection", bobB, 404, notFound, "/settings/connections/"+conn),
		getAs("revoking another user's connection (confirm page)", bobB, 404, notFound, "/settings/connections/"+conn+"/revoke"),
		postAs("revoking another user's connection", bobB, 404, notFound, "/settings/connections/"+conn+"/revoke"),
		getAs("another team's connections", bobB, 404, notFound, "/settings/teams/"+k.acmeID),
		getAs("a team one is only a member of", aliceB, 404, notFound, "/settings/teams/"+k.globexID),
		getAs("a team, by someone in none", carolB, 404, notFound, "/settings/teams/"+k.globexID),
		getAs("a connection, by someone in no team", carolB, 404, notFound, "/settings/connections/"+conn),
		postAs("removing a member of another team", bobB, 404, notFound, "/settings/teams/"+k.acmeID+"/members/"+aliceID+"/remove"),
		postAs("leaving a team one is not in", carolB, 404, notFound, "/settings/teams/"+k.acmeID+"/leave"),
		getAs("a connection id that is not a UUID", bobB, 404, notFound, "/settings/connections/'%20OR%20'1'%3D'1"),
		getAs("a team id that is not a UUID", bobB, 404, notFound, "/settings/teams/"+url.PathEscape("x'; DROP TABLE teams; --")),
		getAs("a connection id with a NUL", bobB, 404, notFound, "/settings/connections/%00"),
		{"settings/another user's connection, signed out", 303, "/settings/login", func(t *testing.T) reply {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, k.st.IssuerURL+"/settings/connections/"+conn, nil)
			return untouched(t, k.do(t, req))
		}},
		{"settings/a forged session cookie", 303, "/settings/login", func(t *testing.T) reply {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, k.st.IssuerURL+"/settings/connections/"+conn, nil)
			for _, name := range []string{"settings", "settings_auth", "session"} {
				req.AddCookie(&http.Cookie{Name: name, Value: strings.Repeat("A", 60)})
			}
			return untouched(t, k.do(t, req))
		}},
		{"settings/alice's connection still works", 200, `"result"`, func(t *testing.T) reply {
			return k.mcp(t, "Bearer "+victim.AccessToken, whoamiCall, nil)
		}},
	}
}

// ---- MCP --------------------------------------------------------------

// token authorizes the kit's client as p (choosing team, if any) for scope
// and redeems the code.
func (k *kit) token(t *testing.T, p person, scope string) *oauth2.Token {
	t.Helper()
	return k.tokenFor(t, k.clientID, p, scope)
}

func (k *kit) tokenFor(t *testing.T, clientID string, p person, scope string) *oauth2.Token {
	t.Helper()
	tok, err := k.tryToken(t.Context(), clientID, p, scope)
	if err != nil {
		t.Fatalf("authorize %s: %v", p.email, err)
	}
	return tok
}

// tryToken is tokenFor for a caller that may expect failures (a fault
// test waiting for the stack to recover).
func (k *kit) tryToken(ctx context.Context, clientID string, p person, scope string) (*oauth2.Token, error) {
	verifier := oauth2.GenerateVerifier()
	pg, err := k.approval(clientID, p, scope, verifier)
	if err != nil {
		return nil, err
	}
	return k.exchange(ctx, clientID, pg, verifier)
}

// approval goes through sign-in and consent as p in a fresh browser and
// returns the authorization response.
func (k *kit) approval(clientID string, p person, scope, verifier string) (*browser.Page, error) {
	b := k.newBrowser()
	pg, err := b.Get(k.authURL(verifier, func(q url.Values) {
		q.Set("scope", scope)
		q.Set("client_id", clientID)
	}))
	if err != nil {
		return nil, err
	}
	f, err := pg.Form("password")
	if err != nil {
		return nil, err
	}
	f.Values.Set("email", p.email)
	f.Values.Set("password", p.password)
	if pg, err = b.Submit(f, "", ""); err != nil {
		return nil, err
	}
	if f, err = pg.Form("consent_challenge"); err != nil {
		return nil, err
	}
	if p.team != "" {
		if err := f.Choose("team_id", p.team); err != nil {
			return nil, err
		}
	}
	return b.Submit(f, "action", "allow")
}

// exchange redeems the code of an authorization response (the page that
// left the auth origin).
func (k *kit) exchange(ctx context.Context, clientID string, pg *browser.Page, verifier string) (*oauth2.Token, error) {
	if pg.LeftOrigin == nil || pg.LeftOrigin.Query().Get("code") == "" {
		return nil, fmt.Errorf("no code: HTTP %d, Location %v, %.300s", pg.Status, pg.LeftOrigin, pg.Body)
	}
	k.addSecret("an authorization code", pg.LeftOrigin.Query().Get("code"))
	cfg := &oauth2.Config{ClientID: clientID, RedirectURL: k.redirect,
		Endpoint: oauth2.Endpoint{TokenURL: k.st.IssuerURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	tok, err := cfg.Exchange(ctx, pg.LeftOrigin.Query().Get("code"), oauth2.VerifierOption(verifier),
		oauth2.SetAuthURLParam("resource", k.st.MCPURL))
	if err != nil {
		return nil, fmt.Errorf("exchange: %w", err)
	}
	k.addSecret("an access token", tok.AccessToken)
	k.addSecret("a refresh token", tok.RefreshToken)
	return tok, nil
}

// introspectExt returns the session claims of a token, asking Hydra's admin
// API directly (which does not warm the MCP server's cache).
func (k *kit) introspectExt(t *testing.T, token string) map[string]any {
	t.Helper()
	resp, err := http.PostForm(k.st.HydraAdminURL+"/admin/oauth2/introspect", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Ext map[string]any `json:"ext"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res.Ext
}

const whoamiCall = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`

// mcp posts body to the MCP endpoint with the given Authorization header
// and the standard MCP headers; edit may change the request.
func (k *kit) mcp(t *testing.T, authorization, body string, edit func(*http.Request)) reply {
	t.Helper()
	req := mcpRequest(t.Context(), k.st.MCPURL, authorization, body)
	if edit != nil {
		edit(req)
	}
	return k.do(t, req)
}

// tampered changes the last character of a token.
func tampered(tok string) string {
	last := tok[len(tok)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return tok[:len(tok)-1] + string(repl)
}

func (k *kit) mcpCases() []hostileCase {
	t := k.t
	aliceTok := k.token(t, as(alice, demo.Acme.Name), "invoices:read offline_access")
	bobTok := k.token(t, bob, "invoices:read offline_access")
	writer := k.token(t, as(alice, demo.Acme.Name), "invoices:read invoices:write")

	// A token revoked at Hydra before the MCP server ever saw it (a seen
	// token may be served from the introspection cache for its TTL).
	revoked := k.token(t, as(alice, demo.Acme.Name), "invoices:read")
	resp, err := http.PostForm(k.st.IssuerURL+"/oauth2/revoke", url.Values{"token": {revoked.AccessToken}, "client_id": {k.clientID}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", err, resp)
	}
	resp.Body.Close()

	// A token whose connection was revoked in the database.
	cut := k.token(t, as(alice, demo.Acme.Name), "invoices:read")
	connID, _ := k.introspectExt(t, cut.AccessToken)[contract.ClaimConnectionID].(string)
	revokeConnection(t, connID)

	// A token that lives one second.
	short := k.registerOK(t, metadata(set("client_name", "short-lived tokens")))
	adminJSON(t, http.MethodPut, "/admin/clients/"+short.ClientID+"/lifespans",
		map[string]any{"authorization_code_grant_access_token_lifespan": "1s"}, &map[string]any{})
	expired := k.tokenFor(t, short.ClientID, as(alice, demo.Acme.Name), "invoices:read")

	otherAudience := adminIssuedToken(t, "https://other.example/api")
	k.addSecret("the other audience's token", otherAudience)

	const invalid = `error="invalid_token"`
	call := func(name string, status int, want, authorization, body string, edit func(*http.Request)) hostileCase {
		return hostileCase{"mcp/" + name, status, want, func(t *testing.T) reply { return k.mcp(t, authorization, body, edit) }}
	}
	bearer := "Bearer " + aliceTok.AccessToken
	return []hostileCase{
		call("no token", 401, `resource_metadata="`, "", whoamiCall, nil),
		call("Basic credentials", 401, `resource_metadata="`, "Basic YWxpY2U6YWxpY2UtZGVtby1wYXNzd29yZA==", whoamiCall, nil),
		call("Bearer without a token", 401, `resource_metadata="`, "Bearer", whoamiCall, nil),
		call("two tokens", 401, `resource_metadata="`, bearer+" "+bearer, whoamiCall, nil),
		call("token with a quote", 401, `resource_metadata="`, `Bearer ab"c`, whoamiCall, nil),
		call("token with non-ASCII", 401, `resource_metadata="`, "Bearer t\u00f6ken", whoamiCall, nil),
		call("token of 16 KB", 401, invalid, "Bearer "+strings.Repeat("a", 16<<10), whoamiCall, nil),
		call("refresh token as bearer", 401, "only access tokens are accepted", "Bearer "+aliceTok.RefreshToken, whoamiCall, nil),
		call("another audience", 401, "not meant for this server", "Bearer "+otherAudience, whoamiCall, nil),
		{"mcp/expired", 401, invalid, func(t *testing.T) reply {
			if wait := time.Until(expired.Expiry.Add(1500 * time.Millisecond)); wait > 0 {
				time.Sleep(wait)
			}
			return k.mcp(t, "Bearer "+expired.AccessToken, whoamiCall, nil)
		}},
		call("revoked at the authorization server", 401, "not active", "Bearer "+revoked.AccessToken, whoamiCall, nil),
		call("connection revoked", 401, "was revoked", "Bearer "+cut.AccessToken, whoamiCall, nil),
		call("tampered", 401, "not active", "Bearer "+tampered(aliceTok.AccessToken), whoamiCall, nil),
		call("an id from another team", 200, "not found", "Bearer "+bobTok.AccessToken, toolCallBody("get_invoice", map[string]any{"invoice": k.acmeInvoiceID}), nil),
		call("a team argument", 200, "team_id", bearer, toolCallBody("list_invoices", map[string]any{"team_id": k.globexID}), nil),
		call("SQL in a tool argument", 200, "not found", bearer, toolCallBody("get_invoice", map[string]any{"invoice": "' OR 1=1 --"}), nil),
		call("a scope not granted", 403, `error="insufficient_scope"`, bearer, toolCallBody("create_invoice", map[string]any{
			"customer": "x", "currency": "EUR", "lines": []any{map[string]any{"description": "x", "quantity": 1, "unit_price_cents": 1}}}), nil),
		call("a scope not granted, hidden in a batch", 403, `error="insufficient_scope"`, bearer,
			"["+whoamiCall+","+toolCallBody("create_transaction", map[string]any{"description": "x", "counterparty": "x", "amount_cents": 1, "currency": "EUR"})+"]", nil),
		call("a scope not granted, name in other case", 200, "unknown tool", bearer, toolCallBody("CREATE_INVOICE", nil), nil),
		call("NUL in a tool argument", 200, "NUL character", bearer, toolCallBody("get_invoice", map[string]any{"invoice": "ACME-\x00"}), nil),
		call("NUL in a filter", 200, "NUL character", bearer, toolCallBody("list_invoices", map[string]any{"customer": "\x00"}), nil),
		call("NUL in a new invoice", 200, "NUL character", "Bearer "+writer.AccessToken, toolCallBody("create_invoice", map[string]any{
			"customer": "a\x00b", "currency": "EUR", "lines": []any{map[string]any{"description": "x", "quantity": 1, "unit_price_cents": 1}}}), nil),
		call("oversize body", 413, "request_too_large", bearer, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{"x":"`+strings.Repeat("x", 2<<20)+`"}}}`, nil),
		call("not JSON", 400, "malformed payload", bearer, "{", nil),
		call("JSON but not JSON-RPC", 400, "invalid message version", bearer, `{"hello":"world"}`, nil),
		call("wrong JSON-RPC version", 400, "invalid message version", bearer, `{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, nil),
		call("unknown method", 400, "unsupported", bearer, `{"jsonrpc":"2.0","id":1,"method":"admin/dump","params":{}}`, nil),
		call("object as the id", 400, "invalid ID", bearer, `{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}`, nil),
		call("null body", 400, "malformed payload", bearer, `null`, nil),
		call("forbidden Origin", 403, "forbidden_origin", bearer, whoamiCall, func(r *http.Request) { r.Header.Set("Origin", "https://attacker.example") }),
		call("null Origin", 403, "forbidden_origin", bearer, whoamiCall, func(r *http.Request) { r.Header.Set("Origin", "null") }),
		call("rebinding Host", 403, "forbidden_host", bearer, whoamiCall, func(r *http.Request) { r.Host = "attacker.example" }),
		call("text/plain body", 415, "Content-Type must be", bearer, whoamiCall, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }),
		{"mcp/GET", 405, "Method Not Allowed", func(t *testing.T) reply {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, k.st.MCPURL, nil)
			req.Header.Set("Authorization", bearer)
			req.Header.Set("Accept", "text/event-stream")
			return k.do(t, req)
		}},
	}
}

package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/locale"
)

func TestWithIssuer(t *testing.T) {
	issuer, _ := url.Parse("https://auth.example.com")
	tests := []struct {
		location string
		want     string // "" = unchanged
	}{
		{"http://localhost:3333/callback?code=c&state=s", "http://localhost:3333/callback?code=c&state=s&iss=https%3A%2F%2Fauth.example.com"},
		{"https://app.example/cb?error=access_denied&state=s", "https://app.example/cb?error=access_denied&state=s&iss=https%3A%2F%2Fauth.example.com"},
		{"cursor://anysphere.cursor-retrieval/oauth/callback?code=c", "cursor://anysphere.cursor-retrieval/oauth/callback?code=c&iss=https%3A%2F%2Fauth.example.com"},
		{"com.example.app:/cb?code=c", "com.example.app:/cb?code=c&iss=https%3A%2F%2Fauth.example.com"},
		{"https://auth.example.com/login?login_challenge=x", ""},
		{"https://auth.example.com/error?error=invalid_client", ""},
		{"/consent?consent_challenge=x", ""},
		{"https://app.example/cb?code=c&iss=https%3A%2F%2Fauth.example.com", ""},
		{"https://app.example/cb?state=s", ""},
	}
	for _, tt := range tests {
		got, ok := WithIssuer(tt.location, issuer)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("WithIssuer(%q) = %q, %t; want %q", tt.location, got, ok, tt.want)
		}
	}
}

type fakeResolver struct {
	calls       int
	redirectURI string
	err         error
}

func (f *fakeResolver) Resolve(_ context.Context, clientIDURL, redirectURI string) (string, error) {
	f.calls++
	f.redirectURI = redirectURI
	if f.err != nil {
		return "", f.err
	}
	return clientmeta.HydraID(clientIDURL), nil
}

// hydraSeen is what the fake Hydra received.
type hydraSeen struct {
	query url.Values
	form  url.Values
	user  string
}

func newProxy(t *testing.T, res ClientIDResolver) (http.Handler, *hydraSeen) {
	seen := &hydraSeen{}
	hydraSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.query = r.URL.Query()
		_ = r.ParseForm()
		seen.form = r.PostForm
		seen.user, _, _ = r.BasicAuth()
		w.Header().Set("Access-Control-Allow-Origin", "https://hydra-thinks.example")
		if r.URL.Path == "/oauth2/auth" {
			// Like Hydra: back to the redirect URI it was given.
			target := "http://127.0.0.1:3333/callback"
			if r.URL.Query().Has("redirect_uri") {
				target = r.URL.Query().Get("redirect_uri")
			}
			w.Header().Set("Location", target+"?code=abc&state=xyz")
			w.WriteHeader(http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"t"}`)
	}))
	t.Cleanup(hydraSrv.Close)
	hydraURL, _ := url.Parse(hydraSrv.URL)
	issuer, _ := url.Parse("http://localhost:3000")
	p := &Proxy{HydraPublic: hydraURL, Issuer: issuer, Clients: res, Locale: locale.MustNew(locale.Options{}),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return CORS(p.Handler()), seen
}

const cimdURL = "https://app.example.com/client.json"

func TestProxyAuthorize(t *testing.T) {
	res := &fakeResolver{}
	proxy, seen := newProxy(t, res)
	q := url.Values{"client_id": {cimdURL}, "redirect_uri": {"http://127.0.0.1:3333/callback"}, "scope": {"invoices:read openid"},
		"response_type": {"code"}, "state": {"xyz"}}
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, httptest.NewRequest("GET", "/oauth2/auth?"+q.Encode(), nil))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := seen.query.Get("client_id"); got != clientmeta.HydraID(cimdURL) {
		t.Errorf("Hydra got client_id %q, want the derived id", got)
	}
	if seen.query.Get("scope") != "invoices:read" || res.redirectURI != "http://127.0.0.1:3333/callback" {
		t.Errorf("Hydra got scope %q; resolver got redirect %q", seen.query.Get("scope"), res.redirectURI)
	}
	loc, _ := url.Parse(rec.Header().Get("Location"))
	if loc.Query().Get("iss") != "http://localhost:3000" || loc.Query().Get("code") != "abc" {
		t.Errorf("authorization response %s lacks iss", loc)
	}
	if got := rec.Header().Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want only ours", got)
	}

	// An ordinary client id goes through untouched, without a resolver call.
	res.calls = 0
	rec = httptest.NewRecorder()
	proxy.ServeHTTP(rec, httptest.NewRequest("GET", "/oauth2/auth?client_id=2d5c0b2e&response_type=code", nil))
	if seen.query.Get("client_id") != "2d5c0b2e" || res.calls != 0 {
		t.Errorf("ordinary client id: Hydra got %q, resolver called %d times", seen.query.Get("client_id"), res.calls)
	}
}

// The settings pages' own client keeps openid, which every other client
// loses at the edge.
// TestProxyLocalhostRedirect: Hydra is shown the stand-in loopback address
// instead of localhost (package loopback), in the authorization request and
// in the code exchange, and the browser is sent to the client's own URI.
func TestProxyLocalhostRedirect(t *testing.T) {
	proxy, seen := newProxy(t, &fakeResolver{})
	const client, hydraForm = "http://localhost:61030/callback", "http://127.82.52.1:61030/callback"
	q := url.Values{"client_id": {"2d5c0b2e"}, "redirect_uri": {client}, "response_type": {"code"}}
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, httptest.NewRequest("GET", "/oauth2/auth?"+q.Encode(), nil))
	if got := seen.query.Get("redirect_uri"); got != hydraForm {
		t.Errorf("Hydra got redirect_uri %q, want %q", got, hydraForm)
	}
	if got, want := rec.Header().Get("Location"), client+"?code=abc&state=xyz&iss=http%3A%2F%2Flocalhost%3A3000"; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}

	form := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "client_id": {"2d5c0b2e"}, "redirect_uri": {client}}
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	proxy.ServeHTTP(httptest.NewRecorder(), req)
	if got := seen.form.Get("redirect_uri"); got != hydraForm {
		t.Errorf("the code exchange reached Hydra with redirect_uri %q, want %q", got, hydraForm)
	}

	// Other hosts are passed as they are.
	q.Set("redirect_uri", "https://app.example:8443/cb")
	proxy.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/oauth2/auth?"+q.Encode(), nil))
	if got := seen.query.Get("redirect_uri"); got != "https://app.example:8443/cb" {
		t.Errorf("Hydra got redirect_uri %q", got)
	}
}

func TestProxyAuthorizeFirstParty(t *testing.T) {
	proxy, seen := newProxy(t, &fakeResolver{})
	for client, want := range map[string]string{firstparty.ClientID: "openid", "2d5c0b2e": ""} {
		q := url.Values{"client_id": {client}, "scope": {"openid"}, "response_type": {"code"}}
		proxy.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/oauth2/auth?"+q.Encode(), nil))
		if got := seen.query.Get("scope"); got != want {
			t.Errorf("%s: Hydra got scope %q, want %q", client, got, want)
		}
	}
}

func TestProxyAuthorizeRefusals(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		resolveErr error
		noResolver bool
		wantStatus int
		wantBody   string
	}{
		{"fragment response mode", "client_id=x&response_mode=fragment", nil, false, 400, "response_mode=query"},
		{"bad document", "client_id=" + url.QueryEscape(cimdURL), &clientmeta.Error{Description: "the document is odd"}, false, 400, "the document is odd"},
		{"our outage", "client_id=" + url.QueryEscape(cimdURL), fmt.Errorf("%w: db", clientmeta.ErrUnavailable), false, 503, "try again"},
		{"no resolver", "client_id=" + url.QueryEscape(cimdURL), nil, true, 400, "does not accept apps that identify themselves by a web address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res ClientIDResolver = &fakeResolver{err: tt.resolveErr}
			if tt.noResolver {
				res = nil
			}
			proxy, seen := newProxy(t, res)
			rec := httptest.NewRecorder()
			proxy.ServeHTTP(rec, httptest.NewRequest("GET", "/oauth2/auth?"+tt.query, nil))
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("status %d, body %.300s; want %d with %q", rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if seen.query != nil {
				t.Error("the request reached Hydra")
			}
		})
	}
}

func TestProxyTokenTranslatesClientID(t *testing.T) {
	proxy, seen := newProxy(t, nil)
	post := func(form url.Values, basicUser string) {
		t.Helper()
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basicUser != "" {
			req.SetBasicAuth(url.QueryEscape(basicUser), "")
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	post(url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "client_id": {cimdURL}, "code_verifier": {"v"}}, "")
	if seen.form.Get("client_id") != clientmeta.HydraID(cimdURL) || seen.form.Get("code_verifier") != "v" {
		t.Errorf("Hydra got form %v", seen.form)
	}
	post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}}, cimdURL)
	if seen.user != url.QueryEscape(clientmeta.HydraID(cimdURL)) {
		t.Errorf("Hydra got Basic user %q", seen.user)
	}
	post(url.Values{"grant_type": {"refresh_token"}, "client_id": {"2d5c0b2e"}}, "")
	if seen.form.Get("client_id") != "2d5c0b2e" {
		t.Errorf("an ordinary client id was changed to %q", seen.form.Get("client_id"))
	}
}

func TestCORSPreflight(t *testing.T) {
	reached := false
	h := CORS(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	req := httptest.NewRequest("OPTIONS", "/oauth2/token", nil)
	req.Header.Set("Origin", "http://localhost:6274")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type, mcp-protocol-version, x-custom, bad header")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || reached {
		t.Fatalf("preflight: status %d, reached handler %t", rec.Code, reached)
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" || rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Error("preflight must allow any origin without credentials")
	}
	allowed := rec.Header().Get("Access-Control-Allow-Headers")
	for _, want := range []string{"Authorization", "MCP-Protocol-Version", "x-custom"} {
		if !strings.Contains(allowed, want) {
			t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
		}
	}
	if strings.Contains(allowed, "bad header") || strings.Count(strings.ToLower(allowed), "content-type") != 1 {
		t.Errorf("Access-Control-Allow-Headers = %q", allowed)
	}
}

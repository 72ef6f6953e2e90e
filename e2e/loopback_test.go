package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/browser"
	"github.com/mcp-oauth/e2e/stack"
)

// portLessLoopback are the redirect URIs that Claude Code 2.1.328 and Codex
// CLI 0.169.0 list in their Client ID Metadata Documents (seen in the
// documents their binaries present; docs/design.md), plus the IPv6 form.
var portLessLoopback = []string{"http://localhost/callback", "http://127.0.0.1/callback", "http://[::1]/callback"}

// TestLoopbackRedirectAnyPort: RFC 8252 §7.3 for both kinds of client. A
// redirect on a loopback host matches a registered one without a port (or
// with another), the browser is sent to the client's own URI byte for byte,
// and the code exchange repeats that URI and gets a working token. Hydra
// alone matches localhost port-exactly; the edge bridges it.
func TestLoopbackRedirectAnyPort(t *testing.T) {
	registered := registerLoopbackClient(t, append(portLessLoopback, "http://localhost:8123/fixed"))
	document := clientDocs.srv.URL + "/clients/loopback-any-port.json"
	clientDocs.put(t, document, "max-age=300", map[string]any{
		"client_id":                  document,
		"client_name":                "e2e port-less loopback document",
		"redirect_uris":              portLessLoopback,
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
	for _, tc := range []struct{ kind, client, redirect string }{
		{"registered", registered, "http://localhost:61030/callback"},
		{"registered", registered, "http://127.0.0.1:50123/callback"},
		{"registered", registered, "http://[::1]:40404/callback"},
		{"registered", registered, "http://localhost:9999/fixed"},
		{"document", document, "http://localhost:61031/callback"},
		{"document", document, "http://127.0.0.1:50124/callback"},
	} {
		t.Run(tc.kind+" "+tc.redirect, func(t *testing.T) {
			tok := loopbackLogin(t, tc.client, tc.redirect)
			if r := rawCall(t, "Bearer "+tok.AccessToken); r.StatusCode != http.StatusOK {
				t.Fatalf("tools/call with the token: HTTP %d", r.StatusCode)
			}
			if tok.RefreshToken == "" {
				t.Error("no refresh token")
			}
		})
	}
}

// loopbackLogin runs the authorization code flow for a public client with
// the given redirect URI and returns its tokens.
func loopbackLogin(t *testing.T, clientID, redirect string) *oauth2.Token {
	t.Helper()
	return loopbackLoginPage(t, clientID, redirect, func(string) {})
}

// loopbackLoginPage is loopbackLogin, handing the consent page to check.
func loopbackLoginPage(t *testing.T, clientID, redirect string, checkConsent func(page string)) *oauth2.Token {
	t.Helper()
	cfg := &oauth2.Config{ClientID: clientID, RedirectURL: redirect, Scopes: []string{"invoices:read"},
		Endpoint: oauth2.Endpoint{AuthURL: st.IssuerURL + "/oauth2/auth", TokenURL: st.IssuerURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier, state := oauth2.GenerateVerifier(), rand.Text()
	resource := oauth2.SetAuthURLParam("resource", st.MCPURL)
	a, err := approve(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), resource), as(alice, demo.Acme.Name))
	if err != nil {
		t.Fatal(err)
	}
	checkConsent(a.consentPage)
	// The client's own URI, byte for byte, then the response parameters.
	got := a.redirect.String()
	if !strings.HasPrefix(got, redirect+"?") || a.redirect.Query().Get("state") != state || a.redirect.Query().Get("iss") != st.IssuerURL {
		t.Fatalf("authorization response %s: want %s?… with state and iss", got, redirect)
	}
	tok, err := cfg.Exchange(t.Context(), a.redirect.Query().Get("code"), oauth2.VerifierOption(verifier), resource)
	if err != nil {
		t.Fatalf("code exchange with redirect_uri %s: %v", redirect, err)
	}
	return tok
}

// TestRedirectExactElsewhere: only loopback http redirects may change their
// port. An https redirect on another port, an http one on a host that is not
// loopback-only, another path, or an added query is refused before anyone
// signs in, and the browser is never sent there.
func TestRedirectExactElsewhere(t *testing.T) {
	client := registerLoopbackClient(t, []string{"https://app.example.com:8443/callback", "https://localhost:8443/callback", "http://localhost/callback"})
	for _, redirect := range []string{
		"https://app.example.com:9443/callback",
		"https://app.example.com/callback",
		"https://localhost:9443/callback",
		"http://localhost:5000/other",
		"http://localhost:5000/callback?next=https://evil.example",
		"http://127.0.0.1:5000/callback", // another host than the registered localhost
		"http://localhost.evil.example:5000/callback",
	} {
		t.Run(redirect, func(t *testing.T) {
			cfg := &oauth2.Config{ClientID: client, RedirectURL: redirect, Scopes: []string{"invoices:read"},
				Endpoint: oauth2.Endpoint{AuthURL: st.IssuerURL + "/oauth2/auth"}}
			b, err := browser.New(st.IssuerURL)
			if err != nil {
				t.Fatal(err)
			}
			page, err := b.Get(cfg.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if err != nil {
				t.Fatal(err)
			}
			if page.LeftOrigin != nil {
				t.Fatalf("the browser was sent to %s", page.LeftOrigin)
			}
			if page.Status < 400 || page.Status >= 500 || strings.Contains(page.Body, `name="password"`) {
				t.Fatalf("HTTP %d, want a 4xx error page before sign-in: %.300s", page.Status, page.Body)
			}
		})
	}
}

// registerLoopbackClient registers a public client with these redirect URIs
// and returns its id.
func registerLoopbackClient(t *testing.T, redirects []string) string {
	t.Helper()
	return registerLoopbackClientNamed(t, "e2e "+t.Name(), redirects)
}

// registerLoopbackClientNamed is registerLoopbackClient with a client name.
func registerLoopbackClientNamed(t *testing.T, name string, redirects []string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"client_name":                name,
		"redirect_uris":              redirects,
		"token_endpoint_auth_method": "none",
	})
	resp, err := http.Post(st.IssuerURL+"/oauth2/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID     string   `json:"client_id"`
		RedirectURIs []string `json:"redirect_uris"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("registration: HTTP %d, %v", resp.StatusCode, err)
	}
	if strings.Join(reg.RedirectURIs, " ") != strings.Join(redirects, " ") {
		t.Fatalf("registration answered redirect_uris %q, want the client's own %q", reg.RedirectURIs, redirects)
	}
	return reg.ClientID
}

// TestUpgradeKeepsOldLoopbackClients: a client registered by a version
// that showed Hydra localhost as it is still logs in after an upgrade: the
// consent app gives its localhost redirect URIs their Hydra form when it
// starts.
func TestUpgradeKeepsOldLoopbackClients(t *testing.T) {
	var created struct {
		ClientID string `json:"client_id"`
	}
	// What the registration front wrote before the translation existed.
	adminJSON(t, "POST", "/admin/clients", map[string]any{
		"client_name": "e2e registered before the upgrade", "redirect_uris": []string{"http://localhost/callback"},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "none", "scope": "invoices:read invoices:write accounting:read accounting:write offline_access",
		"audience": []string{st.MCPURL}, "metadata": map[string]any{"registered_via": "dynamic_client_registration"},
	}, &created)
	if err := st.StopServer(stack.ConsentApp, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := st.StartServer(t.Context(), stack.ConsentApp); err != nil {
		t.Fatal(err)
	}
	tok := loopbackLogin(t, created.ClientID, "http://localhost:61060/callback")
	if r := rawCall(t, "Bearer "+tok.AccessToken); r.StatusCode != http.StatusOK {
		t.Fatalf("tools/call: HTTP %d", r.StatusCode)
	}
}

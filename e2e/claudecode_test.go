package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/demo"
)

// TestClaudeCodeShape replays Claude Code's requests byte for byte where it
// matters: discovery from the 401, a registration without `scope`, the
// redirect http://localhost:<port>/callback, an authorization request with
// `resource` and without offline_access. It must still end with a working
// access token and a refresh token (docs/design.md quirk 4).
func TestClaudeCodeShape(t *testing.T) {
	// Discovery, as the client does it: the 401's challenge, then the PRM,
	// then RFC 8414 metadata at the issuer.
	resp := rawCall(t, "")
	challenges, err := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	if err != nil || len(challenges) == 0 {
		t.Fatalf("WWW-Authenticate %q: %v", resp.Header.Values("WWW-Authenticate"), err)
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	getJSON(t, challenges[0].Params["resource_metadata"], &prm)
	var asm struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		RegistrationEndpoint  string   `json:"registration_endpoint"`
		PKCE                  []string `json:"code_challenge_methods_supported"`
	}
	getJSON(t, prm.AuthorizationServers[0]+"/.well-known/oauth-authorization-server", &asm)
	if asm.Issuer != prm.AuthorizationServers[0] || !slices.Equal(asm.PKCE, []string{"S256"}) {
		t.Fatalf("metadata issuer %q (PRM says %q), PKCE %v", asm.Issuer, prm.AuthorizationServers[0], asm.PKCE)
	}

	// Registration with no scope member.
	redirect := "http://localhost:51789/callback"
	body, _ := json.Marshal(map[string]any{
		"client_name":                "Claude Code (acme)",
		"redirect_uris":              []string{redirect},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
	resp, err = http.Post(asm.RegistrationEndpoint, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("registration: HTTP %d, %v", resp.StatusCode, err)
	}

	// Authorization with resource, the challenge's scopes, no offline_access.
	scope := challenges[0].Params["scope"]
	if scope == "" || strings.Contains(scope, "offline_access") {
		t.Fatalf("challenge scope %q", scope)
	}
	cfg := &oauth2.Config{ClientID: reg.ClientID, RedirectURL: redirect, Scopes: strings.Fields(scope),
		Endpoint: oauth2.Endpoint{AuthURL: asm.AuthorizationEndpoint, TokenURL: asm.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams}}
	verifier, state := oauth2.GenerateVerifier(), rand.Text()
	resource := oauth2.SetAuthURLParam("resource", prm.Resource)
	a, err := approve(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), resource), as(alice, demo.Acme.Name))
	if err != nil {
		t.Fatal(err)
	}
	q := a.redirect.Query()
	if got := a.redirect.Scheme + "://" + a.redirect.Host + a.redirect.Path; got != redirect || q.Get("state") != state || q.Get("iss") != asm.Issuer {
		t.Fatalf("authorization response %s: want %s with state and iss=%s", a.redirect, redirect, asm.Issuer)
	}

	tok, err := cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier), resource)
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for a client that registered the refresh_token grant but never asked for offline_access")
	}
	if r := rawCall(t, "Bearer "+tok.AccessToken); r.StatusCode != http.StatusOK {
		t.Fatalf("tools/call with the access token: HTTP %d", r.StatusCode)
	}
	refreshed, err := cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == tok.RefreshToken {
		t.Error("the refresh token was not rotated")
	}
	if r := rawCall(t, "Bearer "+refreshed.AccessToken); r.StatusCode != http.StatusOK {
		t.Fatalf("tools/call with the refreshed access token: HTTP %d", r.StatusCode)
	}
}

// getJSON fetches a JSON document.
func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	if _, err := url.Parse(u); err != nil || u == "" {
		t.Fatalf("bad URL %q", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/catalog/demo"
)

// TestAudienceIsChecked issues two tokens that differ only in audience, by
// driving Hydra's admin API the way a consent app would: every claim, the
// connection and the scopes are valid. The MCP server must accept the one for
// itself and refuse the other.
func TestAudienceIsChecked(t *testing.T) {
	if tok := adminIssuedToken(t, st.MCPURL); rawCall(t, "Bearer "+tok).StatusCode != http.StatusOK {
		t.Fatal("control: a token for the MCP server was refused, so the audience check below proves nothing")
	}
	if resp := rawCall(t, "Bearer "+adminIssuedToken(t, "https://other.example/api")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token for another audience: HTTP %d, want 401", resp.StatusCode)
	}
}

func adminIssuedToken(t *testing.T, audience string) string {
	t.Helper()
	const redirect = "http://127.0.0.1:53682/callback"
	var client struct {
		ClientID string `json:"client_id"`
	}
	adminJSON(t, http.MethodPost, "/admin/clients", map[string]any{
		"client_name": "audience probe", "grant_types": []string{"authorization_code"}, "response_types": []string{"code"},
		"redirect_uris": []string{redirect}, "scope": "invoices:read", "audience": []string{audience},
		"token_endpoint_auth_method": "none",
	}, &client)

	db, err := pgx.Connect(t.Context(), st.AppDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(t.Context())
	var userID, teamID, connID string
	if err := db.QueryRow(t.Context(), `SELECT u.id, t.id FROM users u, teams t WHERE u.email = $1 AND t.slug = $2`,
		demo.Alice.Email, demo.Acme.Slug).Scan(&userID, &teamID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(t.Context(), `INSERT INTO connections (user_id, team_id, client_id, client_name, scopes)
		VALUES ($1, $2, $3, 'audience probe', '{invoices:read}') RETURNING id`, userID, teamID, client.ClientID).Scan(&connID); err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := oauth2.GenerateVerifier()
	cfg := &oauth2.Config{ClientID: client.ClientID, RedirectURL: redirect, Scopes: []string{"invoices:read"},
		Endpoint: oauth2.Endpoint{AuthURL: st.IssuerURL + "/oauth2/auth", TokenURL: st.IssuerURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	loc := follow(t, hc, cfg.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(verifier)))

	var accepted struct {
		RedirectTo string `json:"redirect_to"`
	}
	adminJSON(t, http.MethodPut, "/admin/oauth2/auth/requests/login/accept?login_challenge="+url.QueryEscape(loc.Query().Get("login_challenge")),
		map[string]any{"subject": userID}, &accepted)
	loc = follow(t, hc, accepted.RedirectTo)
	adminJSON(t, http.MethodPut, "/admin/oauth2/auth/requests/consent/accept?consent_challenge="+url.QueryEscape(loc.Query().Get("consent_challenge")),
		map[string]any{
			"grant_scope": []string{"invoices:read"}, "grant_access_token_audience": []string{audience},
			"session": map[string]any{"access_token": map[string]any{
				contract.ClaimTeamID: teamID, contract.ClaimTeamSlug: demo.Acme.Slug, contract.ClaimConnectionID: connID}},
		}, &accepted)
	loc = follow(t, hc, accepted.RedirectTo)
	tok, err := cfg.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok.AccessToken
}

// follow requests u and returns where it redirects.
func follow(t *testing.T, hc *http.Client, u string) *url.URL {
	t.Helper()
	resp, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("GET %s: HTTP %d without redirect", u, resp.StatusCode)
	}
	return loc
}

func adminJSON(t *testing.T, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), method, st.HydraAdminURL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(fmt.Errorf("%s %s: %w", method, path, err))
	}
}

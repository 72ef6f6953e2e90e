package e2e

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/contract"
)

// claudeCodeDocument is Claude Code's pinned metadata document URL, whose
// entry asks for step-up by link (docs/known-clients.md).
const claudeCodeDocument = "https://claude.ai/oauth/claude-code-client-metadata"

// toolAnswer posts one tools/call to an MCP endpoint and returns the HTTP
// status and, for a 200, the result's isError and text (from a JSON or an
// event-stream answer).
func toolAnswer(t *testing.T, endpoint, token, tool string, args map[string]any) (status int, isError bool, text string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(mcpRequest(t.Context(), endpoint, "Bearer "+token, toolCallBody(tool, args)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, false, ""
	}
	raw, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		for line := range strings.Lines(string(raw)) {
			if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data:"); ok {
				raw = []byte(data)
			}
		}
	}
	var msg struct {
		Result struct {
			Content []struct{ Text string }
			IsError bool `json:"isError"`
		}
	}
	if err := json.Unmarshal(raw, &msg); err != nil || len(msg.Result.Content) == 0 {
		t.Fatalf("%s answer %s: %v", tool, raw, err)
	}
	return resp.StatusCode, msg.Result.IsError, msg.Result.Content[0].Text
}

var grantLink = regexp.MustCompile(`https?://\S+/settings/connections/([0-9a-f-]+)/grant\?scope=\S+`)

// TestStepUpByLink: Claude Code mishandles the 403 step-up challenge
// (anthropics/claude-code #73712), so its call lacking invoices:write gets a
// tool error with a link. The person opens it signed in to the settings
// pages and allows; the same token then creates the invoice on every
// replica, and the person still has one connection. Another client of the
// same person gets the 403 challenge.
func TestStepUpByLink(t *testing.T) {
	db := appDB(t)
	p := newUser(t, db, "steplink")
	teamID, teamName := newTeam(t, db, "Steplink", map[string]contract.Role{p.email: contract.RoleOwner})

	redirect := "http://localhost:61077/callback"
	cfg := &oauth2.Config{ClientID: claudeCodeDocument, RedirectURL: redirect, Scopes: []string{"invoices:read"},
		Endpoint: oauth2.Endpoint{AuthURL: st.IssuerURL + "/oauth2/auth", TokenURL: st.IssuerURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier, state := oauth2.GenerateVerifier(), rand.Text()
	resource := oauth2.SetAuthURLParam("resource", st.MCPURL)
	a, err := approve(cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), resource), as(p, teamName))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(t.Context(), a.redirect.Query().Get("code"), oauth2.VerifierOption(verifier), resource)
	if err != nil {
		t.Fatal(err)
	}

	invoice := map[string]any{"customer": "Steplink " + rand.Text()[:6], "currency": "USD",
		"lines": []any{map[string]any{"description": "Widgets", "quantity": 2, "unit_price_cents": 1000}}}
	status, isError, text := toolAnswer(t, st.MCPURL, tok.AccessToken, "create_invoice", invoice)
	if status != http.StatusOK || !isError {
		t.Fatalf("create_invoice before the grant: HTTP %d, isError %v, %q; want a tool error", status, isError, text)
	}
	m := grantLink.FindStringSubmatch(text)
	if m == nil || !strings.HasPrefix(m[0], st.IssuerURL+"/settings/connections/") || !strings.Contains(text, teamName) ||
		!strings.Contains(text, "Create and send invoices and estimates") {
		t.Fatalf("tool error without the grant link, team or permission: %q", text)
	}
	link, connID := m[0], m[1]
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("scope") != "invoices:write" {
		t.Fatalf("grant link %s: %v", link, err)
	}

	// The person opens the link in a browser signed in to the settings pages
	// and allows.
	b, _ := settingsSignIn(t, p)
	page := get(t, b, u.RequestURI())
	if page.Status != http.StatusOK || !strings.Contains(page.Body, teamName) || !strings.Contains(page.Body, `data-scope="invoices:write"`) {
		t.Fatalf("grant page: HTTP %d %.800s", page.Status, page.Body)
	}
	form, err := page.FormTo(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	if page, err = b.Submit(form, "", ""); err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK || page.URL.Path != "/settings" || !strings.Contains(page.Body, "Access added.") {
		t.Fatalf("after allowing: HTTP %d at %s", page.Status, page.URL)
	}

	// The same token now creates the invoice on every replica: each
	// dropped its cached connection when the grant committed.
	for i, replica := range st.MCPReplicaURLs {
		status, isError, text := toolAnswer(t, replica, tok.AccessToken, "create_invoice", invoice)
		if status != http.StatusOK || isError || !strings.Contains(text, "E2E-") {
			t.Errorf("replica %d after the grant: HTTP %d, isError %v, %.300s", i+1, status, isError, text)
		}
	}

	var rows int
	var scopes []string
	if err := db.QueryRow(t.Context(), `SELECT count(*), max(scopes::text)::text[] FROM connections
		WHERE user_id = (SELECT id FROM users WHERE email = $1) AND team_id = $2
		  AND client_id = (SELECT client_id FROM connections WHERE id = $3)`, p.email, teamID, connID).Scan(&rows, &scopes); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || strings.Join(scopes, " ") != "invoices:read invoices:write" {
		t.Errorf("%d connections of the user, client and team (want 1), scopes %v", rows, scopes)
	}

	// Another client of the same person, lacking the scope: the standard
	// challenge, no link.
	other := loopbackPersonToken(t, p, teamName)
	resp, err := http.DefaultClient.Do(mcpRequest(t.Context(), st.MCPURL, "Bearer "+other, toolCallBody("create_invoice", invoice)))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := bufio.NewReader(resp.Body).ReadString('\n')
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) || strings.Contains(first, "/grant") {
		t.Errorf("registered client lacking the scope: HTTP %d, %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// loopbackPersonToken connects a freshly registered client as p into team
// with invoices:read and returns its access token.
func loopbackPersonToken(t *testing.T, p person, team string) string {
	t.Helper()
	redirect := "http://localhost:61078/callback"
	client := registerLoopbackClient(t, []string{redirect})
	cfg := &oauth2.Config{ClientID: client, RedirectURL: redirect, Scopes: []string{"invoices:read"},
		Endpoint: oauth2.Endpoint{AuthURL: st.IssuerURL + "/oauth2/auth", TokenURL: st.IssuerURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	resource := oauth2.SetAuthURLParam("resource", st.MCPURL)
	a, err := approve(cfg.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(verifier), resource), as(p, team))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(t.Context(), a.redirect.Query().Get("code"), oauth2.VerifierOption(verifier), resource)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/demo"
)

var alice = person{email: demo.Alice.Email, password: demo.Alice.Password}

// carol has an account and no team.
var carol = person{email: demo.Carol.Email, password: demo.Carol.Password}

func as(p person, team string) person { p.team = team; return p }

// TestWholeFlow is issue 2's walking skeleton on real parts: two connections
// of one user into two teams, refresh, revocation, and tokens the MCP server
// must refuse.
func TestWholeFlow(t *testing.T) {
	acme, err := connect(t, as(alice, demo.Acme.Name))
	if err != nil {
		t.Fatalf("connect as alice to Acme: %v", err)
	}
	var me whoami
	callTool(t, acme.session, "whoami", nil, &me)
	if me.Team.Slug != "acme" || me.Team.Name != "Acme Corp" || me.User.Email != alice.email {
		t.Fatalf("whoami = %+v, want alice in Acme Corp", me)
	}
	if me.ConnectionID == "" || !slices.Contains(me.Scopes, "invoices:read") {
		t.Fatalf("whoami = %+v, want a connection with invoices:read", me)
	}
	assertInvoices(t, acme, "ACME-")

	globex, err := connect(t, as(alice, demo.Globex.Name))
	if err != nil {
		t.Fatalf("connect as alice to Globex: %v", err)
	}
	var meGlobex whoami
	callTool(t, globex.session, "whoami", nil, &meGlobex)
	if meGlobex.Team.Slug != "globex" || meGlobex.ConnectionID == me.ConnectionID {
		t.Fatalf("second connection whoami = %+v", meGlobex)
	}
	assertInvoices(t, globex, "GLOBEX-")

	// The refresh token yields a new access token that works.
	if acme.token.RefreshToken == "" {
		t.Fatal("no refresh token was issued although the client registered the refresh_token grant")
	}
	refreshed, err := refresh(t, acme.config, acme.token.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.AccessToken == acme.token.AccessToken || refreshed.RefreshToken == acme.token.RefreshToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	s, err := sessionWithToken(t, refreshed.AccessToken)
	if err != nil {
		t.Fatalf("MCP session with the refreshed access token: %v", err)
	}
	var again whoami
	callTool(t, s, "whoami", nil, &again)
	if again.ConnectionID != me.ConnectionID || again.Team.Slug != "acme" {
		t.Fatalf("refreshed token whoami = %+v, want the Acme connection", again)
	}

	// Revoke the Acme connection: its access tokens are refused as soon as
	// the notification reaches the MCP servers, and its refresh token no
	// longer works. The Globex connection is untouched.
	revokeConnection(t, me.ConnectionID)
	for name, token := range map[string]string{"original": acme.token.AccessToken, "refreshed": refreshed.AccessToken} {
		wantRefused(t, token, name+" access token of a revoked connection")
	}
	_, err = refresh(t, acme.config, refreshed.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "access_denied" {
		t.Errorf("refresh of a revoked connection: %v, want access_denied", err)
	}
	var stillGlobex whoami
	callTool(t, globex.session, "whoami", nil, &stillGlobex)
	if stillGlobex.Team.Slug != "globex" {
		t.Errorf("the Globex connection stopped working: %+v", stillGlobex)
	}

	// A refresh token is not an access token.
	if resp := rawCall(t, "Bearer "+globex.token.RefreshToken); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("refresh token as bearer: HTTP %d, want 401", resp.StatusCode)
	}
}

func assertInvoices(t *testing.T, c *connection, prefix string) {
	t.Helper()
	var list invoiceList
	callTool(t, c.session, "list_invoices", map[string]any{"limit": 100}, &list)
	if len(list.Invoices) == 0 {
		t.Fatalf("list_invoices returned nothing for %s", prefix)
	}
	for _, inv := range list.Invoices {
		if !strings.HasPrefix(inv.Number, prefix) {
			t.Errorf("invoice %s leaked into a %s connection", inv.Number, prefix)
		}
	}
}

// revokeConnection revokes directly in the database; the settings page that
// does it for users comes with a later issue.
func revokeConnection(t *testing.T, id string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), st.AppDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	tag, err := conn.Exec(t.Context(), `UPDATE connections SET revoked_at = now() WHERE id = $1`, id)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("revoke connection %s: %v (%d rows)", id, err, tag.RowsAffected())
	}
}

// TestUnauthenticatedChallenge checks the discovery entry point every client
// starts from: a 401 that names the metadata and the scopes.
func TestUnauthenticatedChallenge(t *testing.T) {
	for _, authz := range []string{"", "Basic YWxpY2U6eA==", "Bearer ", "Bearer not-a-token"} {
		resp := rawCall(t, authz)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: HTTP %d, want 401", authz, resp.StatusCode)
			continue
		}
		h := resp.Header.Get("WWW-Authenticate")
		if !strings.Contains(h, `resource_metadata="`+prmURL()+`"`) || !strings.Contains(h, `scope="`) {
			t.Errorf("Authorization %q: WWW-Authenticate = %q", authz, h)
		}
	}
	resp, err := http.Get(prmURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&prm); err != nil {
		t.Fatal(err)
	}
	if prm.Resource != st.MCPURL || !slices.Equal(prm.AuthorizationServers, []string{st.IssuerURL}) ||
		slices.Contains(prm.ScopesSupported, "offline_access") || !slices.Contains(prm.ScopesSupported, "invoices:read") {
		t.Errorf("protected resource metadata = %+v", prm)
	}
}

func prmURL() string {
	i := strings.Index(st.MCPURL[len("http://"):], "/") + len("http://")
	return st.MCPURL[:i] + "/.well-known/oauth-protected-resource" + st.MCPURL[i:]
}

// TestUserWithoutTeam: carol belongs to no team. She gets a clear page, and
// leaving it denies the client; nothing is granted.
func TestUserWithoutTeam(t *testing.T) {
	_, err := connect(t, carol)
	var ae *authorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Fatalf("connect as carol: %v, want access_denied", err)
	}
	conn, err := pgx.Connect(t.Context(), st.AppDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	err = conn.QueryRow(t.Context(), `SELECT count(*) FROM connections c JOIN users u ON u.id = c.user_id WHERE u.email = $1`,
		"carol@example.com").Scan(&n)
	if err != nil || n != 0 {
		t.Errorf("carol has %d connections (%v), want 0", n, err)
	}
}

// TestDeny: pressing Deny sends access_denied to the client.
func TestDeny(t *testing.T) {
	p := alice
	p.deny = true
	_, err := connect(t, p)
	var ae *authorizationError
	if !errors.As(err, &ae) || ae.Code != "access_denied" {
		t.Fatalf("deny: %v, want access_denied", err)
	}
}

// TestErrorRedirectsCarryIss: RFC 9207's iss is on error responses too,
// both those Hydra answers at once and those after the consent page.
func TestErrorRedirectsCarryIss(t *testing.T) {
	client := registerLoopbackClient(t, []string{"http://localhost/callback"})
	cfg := &oauth2.Config{ClientID: client, RedirectURL: "http://localhost:61050/callback",
		Endpoint: oauth2.Endpoint{AuthURL: st.IssuerURL + "/oauth2/auth"}}
	p := alice
	p.deny = true
	for name, authURL := range map[string]string{
		"denied at consent": cfg.AuthCodeURL("s1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("resource", st.MCPURL)),
		"refused by Hydra":  cfg.AuthCodeURL("s2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("response_type", "token")),
	} {
		a, err := approve(authURL, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		q := a.redirect.Query()
		if !strings.HasPrefix(a.redirect.String(), cfg.RedirectURL+"?") || q.Get("error") == "" || q.Get("iss") != st.IssuerURL {
			t.Errorf("%s: redirect %s, want the client's URI with error and iss=%s", name, a.redirect, st.IssuerURL)
		}
	}
}

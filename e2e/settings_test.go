package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/e2e/browser"
)

// The settings pages end to end: sign-in through Hydra as the first-party
// client, who sees and revokes which connections, membership changes, and
// the audit log behind "last used" and the activity view. Every refusal is
// checked where it matters: at both MCP server replicas and at the token
// endpoint (the token hook).

// appDB is the stack's app database, for fixtures and for reading what the
// services wrote.
func appDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), st.AppDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newUser adds a person with alice's password, removed when the test ends.
func newUser(t *testing.T, db *pgxpool.Pool, name string) person {
	t.Helper()
	email := fmt.Sprintf("%s-%s@example.com", name, strings.ToLower(rand.Text()[:8]))
	if _, err := db.Exec(t.Context(), `INSERT INTO users (email, password_hash, display_name)
		SELECT $1, password_hash, $2 FROM users WHERE email = $3`, email, name, alice.email); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec(context.Background(), `DELETE FROM users WHERE email = $1`, email) })
	return person{email: email, password: alice.password}
}

// newTeam adds a team with the given members (email to role), removed when
// the test ends, and returns its id and name.
func newTeam(t *testing.T, db *pgxpool.Pool, name string, members map[string]contract.Role) (id, fullName string) {
	t.Helper()
	fullName = name + " " + rand.Text()[:6]
	if err := db.QueryRow(t.Context(), `INSERT INTO teams (slug, name, invoice_prefix) VALUES ($1, $2, 'E2E') RETURNING id::text`,
		strings.ToLower(strings.ReplaceAll(fullName, " ", "-")), fullName).Scan(&id); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec(context.Background(), `DELETE FROM teams WHERE id = $1`, id) })
	for email, role := range members {
		if _, err := db.Exec(t.Context(), `INSERT INTO memberships (team_id, user_id, role)
			SELECT $1, id, $3 FROM users WHERE email = $2`, id, email, string(role)); err != nil {
			t.Fatal(err)
		}
	}
	return id, fullName
}

// newOwner adds a person (newUser) who owns a new team (newTeam), both
// removed when the test ends, and returns the person with that team chosen.
func newOwner(t *testing.T, db *pgxpool.Pool, name, teamName string) person {
	t.Helper()
	p := newUser(t, db, name)
	_, p.team = newTeam(t, db, teamName, map[string]contract.Role{p.email: contract.RoleOwner})
	return p
}

// settingsSignIn opens the settings pages in a fresh browser and signs in as
// p on the one sign-in page; it returns the browser and My connections.
func settingsSignIn(t *testing.T, p person) (*browser.Browser, *browser.Page) {
	t.Helper()
	b, err := browser.New(st.IssuerURL)
	if err != nil {
		t.Fatal(err)
	}
	page, err := b.Get(st.IssuerURL + "/settings")
	if err != nil {
		t.Fatal(err)
	}
	form, err := page.Form("password")
	if err != nil {
		t.Fatalf("settings did not lead to the sign-in page: %v", err)
	}
	form.Values.Set("email", p.email)
	form.Values.Set("password", p.password)
	if page, err = b.Submit(form, "", ""); err != nil {
		t.Fatal(err)
	}
	if page.Status != http.StatusOK || page.URL.Path != "/settings" {
		t.Fatalf("after sign-in: HTTP %d at %s: %.300s", page.Status, page.URL, page.Body)
	}
	return b, page
}

// get loads a settings path.
func get(t *testing.T, b *browser.Browser, path string) *browser.Page {
	t.Helper()
	page, err := b.Get(st.IssuerURL + path)
	if err != nil {
		t.Fatal(err)
	}
	return page
}

// confirm opens the confirmation page at path and presses its button.
func confirm(t *testing.T, b *browser.Browser, path string) *browser.Page {
	t.Helper()
	page := get(t, b, path)
	form, err := page.FormTo(path)
	if err != nil {
		t.Fatal(err)
	}
	if page, err = b.Submit(form, "", ""); err != nil {
		t.Fatal(err)
	}
	return page
}

// replicaClient keeps connections to the replicas open between calls.
var replicaClient = &http.Client{Timeout: 10 * time.Second}

// replicaStatus calls whoami on one MCP server replica by its own address
// with token and returns the HTTP status.
func replicaStatus(t testing.TB, replicaURL, token string) int {
	resp, err := replicaClient.Do(mcpRequest(context.Background(), replicaURL, "Bearer "+token, toolCallBody("whoami", nil)))
	if err != nil {
		t.Errorf("call %s: %v", replicaURL, err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// wantAccepted fails unless every replica accepts token.
func wantAccepted(t *testing.T, token, what string) {
	t.Helper()
	for i, u := range st.MCPReplicaURLs {
		if got := replicaStatus(t, u, token); got != http.StatusOK {
			t.Errorf("%s: replica %d answered %d, want 200", what, i+1, got)
		}
	}
}

// refusalDeadline bounds how long after a revocation's commit a replica may
// still accept its token: the time for PostgreSQL's notification to reach
// the replica's listener (milliseconds; TestRevocationAcrossReplicas
// measures it).
const refusalDeadline = 2 * time.Second

// wantRefused fails unless every replica refuses token (401) within
// refusalDeadline.
func wantRefused(t *testing.T, token, what string) {
	t.Helper()
	deadline := time.Now().Add(refusalDeadline)
	for i, u := range st.MCPReplicaURLs {
		for {
			status := replicaStatus(t, u, token)
			if status == http.StatusUnauthorized {
				break
			}
			if status != http.StatusOK || time.Now().After(deadline) {
				t.Errorf("%s: replica %d answered %d, want 401 within %s", what, i+1, status, refusalDeadline)
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// connectionID is the connection behind c, as whoami tells.
func connectionID(t *testing.T, c *connection) string {
	t.Helper()
	var me whoami
	callTool(t, c.session, "whoami", nil, &me)
	return me.ConnectionID
}

// wantRefreshRefused fails unless the token endpoint refuses c's refresh
// token with code.
func wantRefreshRefused(t *testing.T, c *connection, code string) {
	t.Helper()
	_, err := refresh(t, c.config, c.token.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Errorf("refresh after the connection ended: %v, want %s", err, code)
	}
}

// TestTeamAdminsAndMembers: in a team of its own, a member sees only their
// own connections — forged ids for another's get 404 and leak nothing — an
// admin sees and revokes any member's, and leaving a team or being removed
// from it ends all one's connections into the team, and only those, at both
// replicas and at the token endpoint.
func TestTeamAdminsAndMembers(t *testing.T) {
	db := appDB(t)
	erin, dave, frank := newUser(t, db, "erin"), newUser(t, db, "dave"), newUser(t, db, "frank")
	teamID, team := newTeam(t, db, "Initech", map[string]contract.Role{erin.email: contract.RoleAdmin, dave.email: contract.RoleMember, frank.email: contract.RoleMember})
	_, other := newTeam(t, db, "Umbrella", map[string]contract.Role{dave.email: contract.RoleOwner})

	connectTo := func(p person, team string) (*connection, string) {
		t.Helper()
		p.team = team
		c, err := connect(t, p)
		if err != nil {
			t.Fatalf("%s connects to %s: %v", p.email, team, err)
		}
		return c, connectionID(t, c)
	}
	daveConn, daveID := connectTo(dave, team)
	// The same client, approved again for dave's other team: Hydra then
	// holds one consent for both connections (docs/design.md quirk 7).
	daveOther := authorizeAgain(t, daveConn, person{email: dave.email, password: dave.password, team: other})
	frankConn, frankID := connectTo(frank, team)
	frank2Conn, frank2ID := connectTo(frank, team)

	t.Run("a member sees only their own", func(t *testing.T) {
		b, home := settingsSignIn(t, dave)
		if !strings.Contains(home.Body, daveID) || strings.Contains(home.Body, frankID) {
			t.Errorf("dave's connections page: has his %v, has frank's %v", strings.Contains(home.Body, daveID), strings.Contains(home.Body, frankID))
		}
		signOut, err := home.FormTo("/settings/signout")
		if err != nil {
			t.Fatal(err)
		}
		token := signOut.Values.Get("csrf_token") // a real token of dave's, for another form
		forged := []struct{ method, path string }{
			{"GET", "/settings/connections/" + frankID},
			{"GET", "/settings/connections/" + frankID + "/revoke"},
			{"POST", "/settings/connections/" + frankID + "/revoke"},
			{"GET", "/settings/teams/" + teamID},
			{"GET", "/settings/teams/" + teamID + "/members/" + userID(t, db, frank) + "/remove"},
			{"POST", "/settings/teams/" + teamID + "/members/" + userID(t, db, frank) + "/remove"},
			{"GET", "/settings/connections/00000000-0000-0000-0000-000000000000"},
			{"GET", "/settings/connections/" + frankID + "x"},
		}
		for _, f := range forged {
			var page *browser.Page
			if f.method == "GET" {
				page = get(t, b, f.path)
			} else {
				page, err = b.Post(st.IssuerURL+f.path, url.Values{"csrf_token": {token}})
				if err != nil {
					t.Fatal(err)
				}
			}
			if page.Status != http.StatusNotFound {
				t.Errorf("%s %s as dave: HTTP %d, want 404", f.method, f.path, page.Status)
			}
			// The page may echo the path dave typed, nothing of frank's.
			if strings.Contains(page.Body, frank.email) || strings.Contains(page.Body, team) {
				t.Errorf("%s %s as dave leaks frank's connection", f.method, f.path)
			}
		}
		wantAccepted(t, frankConn.token.AccessToken, "frank's connection after dave's attempts")
	})

	t.Run("an admin revokes a member's connection", func(t *testing.T) {
		b, _ := settingsSignIn(t, erin)
		page := get(t, b, "/settings/teams/"+teamID)
		for _, want := range []string{daveID, frankID, dave.email, frank.email} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("the team page for its admin lacks %s", want)
			}
		}
		if !slices.Contains(hydraConsents(t, userID(t, db, frank)), frankConn.config.ClientID) {
			t.Fatal("Hydra lists no consent of frank's for the client before the revocation")
		}
		page = confirm(t, b, "/settings/connections/"+frankID+"/revoke")
		if page.Status != http.StatusOK || page.URL.Path != "/settings/teams/"+teamID {
			t.Fatalf("after revoking: HTTP %d at %s", page.Status, page.URL)
		}
		wantRefused(t, frankConn.token.AccessToken, "frank's revoked connection")
		// It was frank's last connection of that client: Hydra's consent
		// went with it, and the refresh token with the consent.
		wantRefreshRefused(t, frankConn, "invalid_grant")
		if slices.Contains(hydraConsents(t, userID(t, db, frank)), frankConn.config.ClientID) {
			t.Error("Hydra still holds frank's consent for the revoked connection's client")
		}
		wantAccepted(t, frank2Conn.token.AccessToken, "frank's other connection")
		if strings.Contains(page.Body, frankID) || !strings.Contains(page.Body, frank2ID) {
			t.Error("the team page after revoking: wrong connections listed")
		}
	})

	t.Run("leaving a team ends one's connections into it", func(t *testing.T) {
		b, _ := settingsSignIn(t, frank)
		page := confirm(t, b, "/settings/teams/"+teamID+"/leave")
		if page.Status != http.StatusOK || page.URL.Path != "/settings" || strings.Contains(page.Body, team) {
			t.Fatalf("after leaving: HTTP %d at %s", page.Status, page.URL)
		}
		wantRefused(t, frank2Conn.token.AccessToken, "frank's connection after he left")
	})

	t.Run("removing a member ends their connections into the team", func(t *testing.T) {
		b, _ := settingsSignIn(t, erin)
		page := confirm(t, b, "/settings/teams/"+teamID+"/members/"+userID(t, db, dave)+"/remove")
		if page.Status != http.StatusOK || strings.Contains(page.Body, dave.email) {
			t.Fatalf("after removing dave: HTTP %d, dave still listed: %v", page.Status, strings.Contains(page.Body, dave.email))
		}
		wantRefused(t, daveConn.token.AccessToken, "dave's connection after his removal")
		// Hydra's consent stays for the client's other connection, so the
		// token hook is what refuses this refresh.
		wantRefreshRefused(t, daveConn, "access_denied")
		wantAccepted(t, daveOther.token.AccessToken, "dave's connection into his other team")
		if _, err := refresh(t, daveOther.config, daveOther.token.RefreshToken); err != nil {
			t.Errorf("refreshing dave's connection into his other team: %v", err)
		}
		// Admins remove members, not other admins or owners.
		erinID := userID(t, db, erin)
		if _, err := db.Exec(t.Context(), `INSERT INTO memberships (team_id, user_id, role) SELECT $1, id, 'owner' FROM users WHERE email = $2`, teamID, alice.email); err != nil {
			t.Fatal(err)
		}
		ownerPath := "/settings/teams/" + teamID + "/members/" + userID(t, db, alice) + "/remove"
		if page := get(t, b, ownerPath); page.Status != http.StatusForbidden {
			t.Errorf("an admin removing an owner: HTTP %d, want 403", page.Status)
		}
		if page := get(t, b, "/settings/teams/"+teamID+"/members/"+erinID+"/remove"); page.Status != http.StatusNotFound {
			t.Errorf("removing oneself by the member page: HTTP %d, want 404 (leaving has its own page)", page.Status)
		}
	})
}

// authorizeAgain authorizes c's client once more as p — a second connection
// of the same client — and returns its tokens.
func authorizeAgain(t *testing.T, c *connection, p person) *connection {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	resource := oauth2.SetAuthURLParam("resource", st.MCPURL)
	a, err := approve(c.config.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(verifier), resource), p)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.config.Exchange(t.Context(), a.redirect.Query().Get("code"), oauth2.VerifierOption(verifier), resource)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return &connection{config: c.config, token: tok}
}

// hydraConsents lists the clients the subject has consent sessions with in
// Hydra.
func hydraConsents(t *testing.T, subject string) []string {
	t.Helper()
	var sessions []struct {
		ConsentRequest struct {
			Client struct {
				ClientID string `json:"client_id"`
			} `json:"client"`
		} `json:"consent_request"`
	}
	adminJSON(t, http.MethodGet, "/admin/oauth2/auth/sessions/consent?subject="+url.QueryEscape(subject), nil, &sessions)
	var clients []string
	for _, s := range sessions {
		clients = append(clients, s.ConsentRequest.Client.ClientID)
	}
	return clients
}

// userID is the id of p's account.
func userID(t *testing.T, db *pgxpool.Pool, p person) string {
	t.Helper()
	var id string
	if err := db.QueryRow(t.Context(), `SELECT id::text FROM users WHERE email = $1`, p.email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAuditActivity: tool calls are recorded — allowed, failed and refused
// for a missing scope — without their arguments, and show on the
// connection's activity view and as "last used".
func TestAuditActivity(t *testing.T) {
	db := appDB(t)
	gina := newOwner(t, db, "gina", "Hooli")
	c, err := connect(t, gina)
	if err != nil {
		t.Fatal(err)
	}
	id := connectionID(t, c)
	const marker = "AUDIT-MARKER-never-recorded"
	var list invoiceList
	callTool(t, c.session, "list_invoices", map[string]any{"customer": marker}, &list)
	// A write without the write scope: refused by the gate with a step-up
	// challenge, which this session does not follow.
	resp := rawCallTo(t, st.MCPURL, c.token.AccessToken, "create_invoice", map[string]any{"customer": marker})
	if resp != http.StatusForbidden {
		t.Fatalf("create_invoice without its scope: HTTP %d, want 403", resp)
	}

	var events int
	deadline := time.Now().Add(10 * time.Second)
	for events < 3 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		db.QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE connection_id = $1`, id).Scan(&events)
	}
	rows, err := db.Query(t.Context(), `SELECT tool, outcome, row_to_json(a)::text FROM audit_events a WHERE connection_id = $1 ORDER BY at, id`, id)
	if err != nil {
		t.Fatal(err)
	}
	type event struct{ tool, outcome, row string }
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (event, error) {
		var e event
		return e, r.Scan(&e.tool, &e.outcome, &e.row)
	})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, e := range got {
		seen = append(seen, e.tool+":"+e.outcome)
		if strings.Contains(e.row, marker) || strings.Contains(e.row, c.token.AccessToken) {
			t.Errorf("an audit row holds an argument or the token: %s", e.row)
		}
	}
	if want := "whoami:ok list_invoices:ok create_invoice:denied"; strings.Join(seen, " ") != want {
		t.Errorf("audit log %q, want %q", strings.Join(seen, " "), want)
	}

	b, home := settingsSignIn(t, gina)
	if strings.Contains(home.Body, ">Never<") {
		t.Error(`My connections says "Never" for a used connection`)
	}
	page := get(t, b, "/settings/connections/"+id)
	for _, want := range []string{"list_invoices", "create_invoice", "Refused: permission missing", "Succeeded"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the activity view lacks %q", want)
		}
	}
}

// rawCallTo posts one tools/call to an MCP endpoint and returns the status.
func rawCallTo(t *testing.T, endpoint, token, tool string, args map[string]any) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(mcpRequest(t.Context(), endpoint, "Bearer "+token, toolCallBody(tool, args)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

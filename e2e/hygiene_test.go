package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// register registers a client through the registration front and returns
// its id.
func register(t *testing.T, name string) string {
	t.Helper()
	body := `{"client_name":"` + name + `","redirect_uris":["http://127.0.0.1:53682/callback"],"token_endpoint_auth_method":"none"}`
	resp, err := http.Post(st.IssuerURL+"/oauth2/register", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: HTTP %d, %v", resp.StatusCode, err)
	}
	return out.ClientID
}

// hydraHasClient asks Hydra's admin API whether the client exists.
func hydraHasClient(t *testing.T, id string) bool {
	t.Helper()
	resp, err := http.Get(st.HydraAdminURL + "/admin/clients/" + id)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestClientHygiene: `consent-app hygiene` deletes the clients our
// registration front created that nobody authorized within a day, and those
// idle for 90 days; a deleted client's next token request gets
// invalid_client, which makes an MCP client register again. Fresh and used
// clients stay, and so does the settings pages' own client.
func TestClientHygiene(t *testing.T) {
	db := appDB(t)
	hydraDB, err := pgxpool.New(t.Context(), st.HydraDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer hydraDB.Close()
	age := func(client, interval string) {
		t.Helper()
		if _, err := hydraDB.Exec(t.Context(), `UPDATE hydra_client SET created_at = now() - $2::interval WHERE id = $1`, client, interval); err != nil {
			t.Fatal(err)
		}
	}

	abandoned := register(t, "e2e abandoned")
	age(abandoned, "25 hours")
	fresh := register(t, "e2e fresh")

	jane := newOwner(t, db, "jane", "Wonka")
	idle, err := connect(t, jane)
	if err != nil {
		t.Fatal(err)
	}
	// No tool call on this one: its "last used" must stay where the test
	// puts it.
	var idleID string
	if err := db.QueryRow(t.Context(), `SELECT id::text FROM connections WHERE client_id = $1`, idle.config.ClientID).Scan(&idleID); err != nil {
		t.Fatal(err)
	}
	used, err := connect(t, jane)
	if err != nil {
		t.Fatal(err)
	}
	usedID := connectionID(t, used) // a tool call: the audit log moves "last used"
	// The idle client was authorized and last used 91 days ago; the used
	// one is as old but was used just now.
	age(idle.config.ClientID, "100 days")
	age(used.config.ClientID, "100 days")
	if _, err := db.Exec(t.Context(), `UPDATE connections SET created_at = now() - interval '91 days', last_used_at = now() - interval '91 days' WHERE id = $1`, idleID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(t.Context(), `UPDATE connections SET created_at = now() - interval '91 days' WHERE id = $1`, usedID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var usedAt *time.Time
		if err := db.QueryRow(t.Context(), `SELECT last_used_at FROM connections WHERE id = $1`, usedID).Scan(&usedAt); err != nil {
			t.Fatal(err)
		}
		if usedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tool call never reached last_used_at")
		}
	}

	if err := st.RunConsentApp(t.Context(), "hygiene"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{abandoned: false, idle.config.ClientID: false, fresh: true, used.config.ClientID: true, "mcp-connect-settings": true} {
		if got := hydraHasClient(t, id); got != want {
			t.Errorf("client %s exists: %v, want %v", id, got, want)
		}
	}
	wantRefreshRefused(t, idle, "invalid_client")
	wantRefused(t, idle.token.AccessToken, "the deleted client's access token")
	var revoked bool
	if err := db.QueryRow(t.Context(), `SELECT revoked_at IS NOT NULL FROM connections WHERE id = $1`, idleID).Scan(&revoked); err != nil || !revoked {
		t.Errorf("the deleted client's connection is still live (%v)", err)
	}
	wantAccepted(t, used.token.AccessToken, "the used client")
}

package settings

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestGrant: the grant page adds catalog scopes to the viewer's own live
// connection, after the CSRF check; others' connections are not found.
func TestGrant(t *testing.T) {
	e := newEnv(t)
	db := e.db
	own := db.Connect(t, alice, "globex", "client-a", "invoices:read")
	bobs := db.Connect(t, bob, "globex", "client-b", "invoices:read")
	scopes := func(id string) []string {
		t.Helper()
		var s []string
		if err := db.Pool.QueryRow(t.Context(), `SELECT scopes FROM connections WHERE id = $1`, id).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := e.browser()
	a.signIn(alice, nil)
	path := "/settings/connections/" + own + "/grant"

	// Unknown and granted scopes are dropped from what the page offers.
	resp, body := a.get(path + "?scope=" + url.QueryEscape("invoices:write nonsense invoices:read") + "&scope=accounting:read")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "client-a app") || !strings.Contains(body, "Globex") ||
		!strings.Contains(body, `data-scope="invoices:write"`) || !strings.Contains(body, `data-scope="accounting:read"`) ||
		strings.Contains(body, `data-scope="invoices:read"`) || strings.Contains(body, "nonsense") {
		t.Fatalf("grant page: %d %.1500s", resp.StatusCode, body)
	}
	token := formToken(t, body, path)
	if _, body := a.get(path + "?scope=invoices:read+nonsense"); !strings.Contains(body, `id="grant-nothing"`) || strings.Contains(body, `id="allow"`) {
		t.Errorf("nothing to add: %.800s", body)
	}

	// Not the viewer's: 404, also for its admin (bob administers globex and
	// sees alice's connection, but may not widen it).
	if resp, _ := a.get("/settings/connections/" + bobs + "/grant?scope=invoices:write"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("alice's GET of bob's grant page: %d, want 404", resp.StatusCode)
	}
	if resp, _ := a.do(http.MethodPost, "/settings/connections/"+bobs+"/grant", url.Values{"csrf_token": {token}, "scope": {"invoices:write"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("alice's POST to bob's connection: %d, want 404", resp.StatusCode)
	}
	b := e.browser()
	b.signIn(bob, nil)
	if resp, _ := b.get(path + "?scope=invoices:write"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the team admin's GET: %d, want 404", resp.StatusCode)
	}

	// CSRF: none, or one bound to another action, changes nothing.
	_, confirm := a.get("/settings/connections/" + own + "/revoke")
	for name, tok := range map[string]string{"none": "", "the revoke form's": formToken(t, confirm, "/settings/connections/"+own+"/revoke")} {
		if resp, _ := a.do(http.MethodPost, path, url.Values{"csrf_token": {tok}, "scope": {"invoices:write"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s CSRF token: %d, want 403", name, resp.StatusCode)
		}
	}
	if got := scopes(own); !slices.Equal(got, []string{"invoices:read"}) {
		t.Fatalf("refused posts changed the scopes: %v", got)
	}

	// Allow: only catalog scopes are added, and the viewer goes back to
	// My connections, where the row shows them.
	resp, _ = a.do(http.MethodPost, path, url.Values{"csrf_token": {token}, "scope": {"invoices:write nonsense", "offline_access", "accounting:read"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/settings?done=granted" {
		t.Fatalf("allow: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := scopes(own); !slices.Equal(got, []string{"invoices:read", "invoices:write", "accounting:read"}) {
		t.Errorf("scopes after allow: %v", got)
	}
	_, body = a.get("/settings?done=granted")
	if !strings.Contains(body, "Access added.") || !strings.Contains(body, "Create and send invoices and estimates") || strings.Count(body, `/settings/connections/`+own+`"`) != 1 {
		t.Errorf("My connections after allow: %.2000s", body)
	}

	// A revoked connection cannot be widened.
	if _, err := db.Store.RevokeVisibleConnection(t.Context(), db.Users[alice], own); err != nil {
		t.Fatal(err)
	}
	if resp, _ := a.get(path + "?scope=accounting:write"); resp.StatusCode != http.StatusConflict {
		t.Errorf("grant page of a revoked connection: %d, want 409", resp.StatusCode)
	}
	if resp, _ := a.do(http.MethodPost, path, url.Values{"csrf_token": {token}, "scope": {"accounting:write"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("grant on a revoked connection: %d, want 409", resp.StatusCode)
	}
}

package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/catalog/demo"
)

// TestHydraOutage stops Hydra. A token the MCP server has not verified yet
// gets a 503 with Retry-After and a JSON error, never a tool result; once
// Hydra is back, the same token works. A token verified just before the
// outage keeps working from the introspection cache meanwhile.
func TestHydraOutage(t *testing.T) {
	c, err := connect(t, as(alice, demo.Acme.Name))
	if err != nil {
		t.Fatal(err)
	}
	unseen, err := refresh(t, c.config, c.token.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	var me whoami
	callTool(t, c.session, "whoami", nil, &me) // verifies (and caches) the session's token

	if err := st.StopHydra(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := st.StartHydra(t.Context()); err != nil {
				t.Errorf("start Hydra again: %v", err)
			}
		}
	})

	started := time.Now()
	resp := rawCall(t, "Bearer "+unseen.AccessToken)
	body, _ := io.ReadAll(resp.Body)
	t.Logf("with Hydra stopped, after %s: HTTP %d, Retry-After %q, %s", time.Since(started).Round(time.Millisecond),
		resp.StatusCode, resp.Header.Get("Retry-After"), body)
	var refusal struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		json.Unmarshal(body, &refusal) != nil || refusal.Error != "temporarily_unavailable" || refusal.Description == "" ||
		strings.Contains(string(body), `"result"`) {
		t.Errorf("HTTP %d, Retry-After %q, body %s; want a 503 JSON error", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Error("the outage was answered like a bad token: a client would throw the token away")
	}
	var cached whoami
	callTool(t, c.session, "whoami", nil, &cached)
	if cached.ConnectionID != me.ConnectionID {
		t.Errorf("cached token during the outage: whoami %+v", cached)
	}

	if err := st.StartHydra(t.Context()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	resp = rawCall(t, "Bearer "+unseen.AccessToken)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), me.ConnectionID) {
		t.Errorf("after Hydra is back: HTTP %d %s", resp.StatusCode, body)
	}
}

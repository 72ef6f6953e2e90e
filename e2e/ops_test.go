package e2e

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcp-oauth/catalog/demo"
)

// TestOperations checks what operators rely on: readiness, request ids, and
// metrics on their own listener only.
func TestOperations(t *testing.T) {
	// One registration, consent and token exchange, and two tool calls on
	// one token (the second verified from the cache), for the counters below.
	c, err := connect(t, as(alice, demo.Acme.Name))
	if err != nil {
		t.Fatal(err)
	}
	var me whoami
	callTool(t, c.session, "whoami", nil, &me)
	callTool(t, c.session, "whoami", nil, &me)
	// And one revocation from the settings pages.
	b, _ := settingsSignIn(t, alice)
	confirm(t, b, "/settings/connections/"+me.ConnectionID+"/revoke")
	for name, origin := range map[string]string{"consent app": st.IssuerURL, "MCP server": strings.TrimSuffix(st.MCPURL, "/mcp")} {
		resp, err := http.Get(origin + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hydra_admin":"ok"`) || !strings.Contains(string(body), `"postgres":"ok"`) {
			t.Errorf("%s /readyz: HTTP %d %s", name, resp.StatusCode, body)
		}
		if id := resp.Header.Get("X-Request-Id"); id == "" {
			t.Errorf("%s: no X-Request-Id on the response", name)
		}
	}
	resp, err := http.Get(st.IssuerURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hydra_admin":"ok"`) || !strings.Contains(string(body), `"postgres":"ok"`) {
		t.Errorf("consent app /readyz: HTTP %d %s", resp.StatusCode, body)
	}
	if id := resp.Header.Get("X-Request-Id"); id == "" {
		t.Error("no X-Request-Id on the response")
	}

	// The public listener has no metrics; the metrics listener has them.
	if resp, err := http.Get(st.IssuerURL + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: %v %v, want 404", err, resp.Status)
	}
	metrics := scrape(t, st.Ports.ConsentAppMetrics)
	for _, want := range []string{
		`http_requests_total{route="/readyz",status="200"}`,
		`client_registrations_total{outcome="created"}`,
		`consent_outcomes_total{outcome="granted"}`,
		`token_hook_decisions_total{decision="allowed"}`,
		`connection_revocations_total{cause="connection"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("consent app metrics lack %s", want)
		}
	}
	metrics = scrape(t, st.Ports.MCPServerMetrics)
	for _, want := range []string{
		`http_requests_total{route="/mcp",status="200"}`,
		`mcp_tool_calls_total{outcome="ok",tool="whoami"}`,
		`verification_cache_lookups_total{result="hit"}`,
		`verification_cache_lookups_total{result="miss"}`,
		`introspection_duration_seconds_count{outcome="ok"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("MCP server metrics lack %s", want)
		}
	}
}

func scrape(t *testing.T, port int) string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		t.Fatalf("scrape metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

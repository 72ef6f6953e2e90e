package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/internal/freeport"
)

// TestMCPRemote runs mcp-remote, the stdio-to-remote bridge that Claude
// Desktop and other stdio-only clients use. It prints the authorization URL;
// the test signs in and approves; the redirect goes to mcp-remote's own
// loopback callback server, which exchanges the code; then a tool call goes
// through the bridge.
func TestMCPRemote(t *testing.T) {
	ports, err := freeport.Pick(1)
	if err != nil {
		t.Fatal(err)
	}
	p := startNode(t, []string{
		"MCP_REMOTE_CONFIG_DIR=" + t.TempDir(), // its token store, private to this test
		"BROWSER=true",                         // "opens" the browser by doing nothing
		"DISPLAY=",
	}, "node_modules/mcp-remote/dist/proxy.js", st.MCPURL, strconv.Itoa(ports[0]), "--auth-timeout", "60")

	p.lineContaining(t, p.stderr, "Please authorize this client by visiting:")
	authURL := strings.TrimSpace(p.line(t, p.stderr, "the URL after the prompt"))
	a, err := approve(authURL, as(alice, demo.Globex.Name))
	if err != nil {
		t.Fatal(err)
	}
	if a.redirect.Hostname() != "localhost" || a.redirect.Port() != strconv.Itoa(ports[0]) {
		t.Fatalf("authorization response goes to %s, not mcp-remote's callback on port %d", a.redirect, ports[0])
	}
	// The browser follows the redirect to mcp-remote's callback server.
	resp, err := http.Get(a.redirect.String())
	if err != nil {
		t.Fatalf("mcp-remote's callback: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mcp-remote's callback answered HTTP %d", resp.StatusCode)
	}
	p.lineContaining(t, p.stderr, "Proxy established successfully")

	p.send(t, map[string]any{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": map[string]any{
		"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "e2e-stdio", "version": "1.0.0"}}})
	rpcResult(t, p, 1, nil)
	p.send(t, map[string]any{"jsonrpc": "2.0", "method": "notifications/initialized"})
	p.send(t, map[string]any{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": map[string]any{"name": "whoami", "arguments": map[string]any{}}})
	var call struct {
		StructuredContent whoami `json:"structuredContent"`
		IsError           bool   `json:"isError"`
	}
	rpcResult(t, p, 2, &call)
	if call.IsError || call.StructuredContent.Team.Slug != "globex" || call.StructuredContent.User.Email != alice.email {
		t.Fatalf("whoami through mcp-remote = %+v", call)
	}
}

// rpcResult reads JSON-RPC messages from the bridge's stdout until the
// response with id, and decodes its result into out.
func rpcResult(t *testing.T, p *nodeProcess, id int, out any) {
	t.Helper()
	for {
		line := p.line(t, p.stdout, "a JSON-RPC response from mcp-remote")
		var msg struct {
			ID     *int            `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("mcp-remote printed %q on stdout: %v", line, err)
		}
		if msg.ID == nil || *msg.ID != id {
			continue // a notification or another response
		}
		if msg.Error != nil {
			t.Fatalf("JSON-RPC error for request %d: %s", id, msg.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(msg.Result, out); err != nil {
				t.Fatalf("result of request %d: %v", id, err)
			}
		}
		return
	}
}

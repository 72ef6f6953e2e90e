package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-oauth/catalog/demo"
)

// versionLog records the MCP-Protocol-Version header of each request.
type versionLog struct {
	mu       sync.Mutex
	versions []string
}

func (v *versionLog) RoundTrip(r *http.Request) (*http.Response, error) {
	v.mu.Lock()
	v.versions = append(v.versions, r.Header.Get("MCP-Protocol-Version"))
	v.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestProtocolVersions: clients of 2025-06-18, 2025-11-25 and 2026-07-28
// get through the real stack. First the go-sdk client pinned to each
// version (a 2026-07-28 client starts with server/discover instead of
// initialize), then the same steps as raw HTTP.
func TestProtocolVersions(t *testing.T) {
	c, err := connect(t, as(alice, demo.Acme.Name))
	if err != nil {
		t.Fatal(err)
	}
	token := c.token.AccessToken
	for _, version := range []string{"2025-06-18", "2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			vlog := &versionLog{}
			client := mcp.NewClient(&mcp.Implementation{Name: "e2e-" + version, Version: "1.0.0"}, nil)
			s, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
				Endpoint: st.MCPURL, OAuthHandler: staticHandler{token}, HTTPClient: &http.Client{Transport: vlog},
			}, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer s.Close()
			if got := s.InitializeResult().ProtocolVersion; got != version {
				t.Errorf("negotiated %s", got)
			}
			tools, err := s.ListTools(t.Context(), nil)
			if err != nil || len(tools.Tools) != 7 {
				t.Fatalf("tools/list: %v (%d tools)", err, len(tools.Tools))
			}
			var list invoiceList
			callTool(t, s, "list_invoices", map[string]any{"limit": 1}, &list)
			if len(list.Invoices) != 1 || !strings.HasPrefix(list.Invoices[0].Number, "ACME-") {
				t.Errorf("list_invoices = %+v", list)
			}
			vlog.mu.Lock()
			if last := vlog.versions[len(vlog.versions)-1]; last != version {
				t.Errorf("the tools/call carried MCP-Protocol-Version %q", last)
			}
			vlog.mu.Unlock()

			// Raw HTTP.
			first, header := rpc(1, "initialize", map[string]any{
				"protocolVersion": version, "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "raw", "version": "1"},
			}, ""), ""
			if version >= "2026-07-28" {
				first, header = rpc(1, "server/discover", map[string]any{}, version), version
			}
			for _, step := range []struct {
				header, msg, want string
			}{
				{header, first, `"` + version + `"`},
				{version, rpc(2, "tools/list", map[string]any{}, version), `"create_transaction"`},
				{version, rpc(3, "tools/call", map[string]any{"name": "whoami", "arguments": map[string]any{}}, version), `Acme Corp`},
			} {
				status, body := postMCP(t, token, step.header, step.msg)
				if status != http.StatusOK || !strings.Contains(body, step.want) {
					t.Errorf("%s: HTTP %d %.300s; want %s", step.msg, status, body, step.want)
				}
			}
		})
	}
}

// rpc returns a JSON-RPC request; from 2026-07-28 on each request carries
// the protocol version, client info and capabilities in _meta (SEP-2575).
func rpc(id int, method string, params map[string]any, version string) string {
	if version >= "2026-07-28" {
		params["_meta"] = map[string]any{
			"io.modelcontextprotocol/protocolVersion":    version,
			"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "raw", "version": "1"},
			"io.modelcontextprotocol/clientCapabilities": map[string]any{},
		}
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	return string(b)
}

// postMCP posts one message as a client of version would (with the
// standard headers of 2026-07-28) and returns the answer.
func postMCP(t *testing.T, token, version, msg string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, st.MCPURL, strings.NewReader(msg))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	if version != "" {
		req.Header.Set("MCP-Protocol-Version", version)
	}
	if version >= "2026-07-28" {
		var m struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		json.Unmarshal([]byte(msg), &m)
		req.Header.Set("Mcp-Method", m.Method)
		if m.Params.Name != "" {
			req.Header.Set("Mcp-Name", m.Params.Name)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

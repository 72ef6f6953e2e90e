package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
	"github.com/mcp-oauth/mcp-server/internal/tools"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const issuer = "http://localhost:3000"

// connections is the gate's view of the consent app's table: always up,
// whatever happens to the tools' database.
type connections struct{}

func (connections) Connection(_ context.Context, id string) (store.Connection, error) {
	switch id {
	case storetest.AcmeConnection:
		return store.Connection{ID: id, UserID: storetest.AliceID, TeamID: storetest.AcmeID}, nil
	case storetest.GlobexConnection:
		return store.Connection{ID: id, UserID: storetest.AliceID, TeamID: storetest.GlobexID}, nil
	}
	return store.Connection{}, store.ErrNotFound
}

// stack runs the real handler on a loopback port, with a fake Hydra that
// knows a few tokens.
type stack struct {
	url, resource string
}

// stackOptions vary newStack; the zero value serves no data.
type stackOptions struct {
	// store backs the tools; nil for tests that call none.
	store tools.Store
	// resource is the public MCP URL; "" = the test server's own.
	resource string
	// connections is the gate's table; nil = connections{}.
	connections gate.Connections
	// verifyTimeout is the gate's; 0 = its default.
	verifyTimeout time.Duration
}

var tokenClaims = map[string]struct{ team, conn, scope string }{
	"acme-reader":   {storetest.AcmeID, storetest.AcmeConnection, "invoices:read offline_access"},
	"acme-all":      {storetest.AcmeID, storetest.AcmeConnection, strings.Join(catalog.Names(), " ")},
	"globex-reader": {storetest.GlobexID, storetest.GlobexConnection, "invoices:read"},
	"acme-noscope":  {storetest.AcmeID, storetest.AcmeConnection, "offline_access"},
}

func newStack(t testing.TB, opts stackOptions) stack {
	t.Helper()
	var resource string
	hydra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, ok := tokenClaims[r.PostFormValue("token")]
		if !ok {
			json.NewEncoder(w).Encode(map[string]any{"active": false})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"active": true, "token_use": "access_token", "aud": []string{resource}, "sub": storetest.AliceID,
			"exp": time.Now().Add(time.Hour).Unix(), "client_id": "client-1", "scope": claims.scope,
			"ext": map[string]any{"team_id": claims.team, "connection_id": claims.conn},
		})
	}))
	t.Cleanup(hydra.Close)

	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	resource = srv.URL + "/mcp"
	if opts.resource != "" {
		resource = opts.resource
	}
	log := storetest.Discard
	conns := opts.connections
	if conns == nil {
		conns = connections{}
	}
	handler = Handler(Options{
		Resource: resource,
		Issuer:   issuer,
		Gate: gate.New(gate.Options{
			Resource:     resource,
			Introspector: introspect.NewCache(introspect.New(hydra.URL+"/admin/oauth2/introspect", nil), introspect.CacheOptions{MaxTTL: time.Minute}),
			Connections:  conns,
			Timeout:      opts.verifyTimeout,
			Logger:       log,
		}),
		MCP:    tools.NewServer(tools.Options{Store: opts.store, Logger: log, Version: "test"}),
		Logger: log,
	})
	return stack{url: srv.URL, resource: resource}
}

func TestProtectedResourceMetadata(t *testing.T) {
	s := newStack(t, stackOptions{})
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		t.Run(path, func(t *testing.T) {
			resp, err := http.Get(s.url + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			var doc struct {
				Resource             string   `json:"resource"`
				AuthorizationServers []string `json:"authorization_servers"`
				ScopesSupported      []string `json:"scopes_supported"`
				BearerMethods        []string `json:"bearer_methods_supported"`
				ResourceName         string   `json:"resource_name"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if doc.Resource != s.resource {
				t.Errorf("resource = %q, want %q", doc.Resource, s.resource)
			}
			if !slices.Equal(doc.AuthorizationServers, []string{issuer}) {
				t.Errorf("authorization_servers = %q", doc.AuthorizationServers)
			}
			if !slices.Equal(doc.ScopesSupported, catalog.BaselineNames()) || slices.Contains(doc.ScopesSupported, catalog.OfflineAccess) {
				t.Errorf("scopes_supported = %q, want the catalog's baseline %q", doc.ScopesSupported, catalog.BaselineNames())
			}
			if !slices.Equal(doc.BearerMethods, []string{"header"}) || doc.ResourceName == "" {
				t.Errorf("bearer_methods_supported = %q, resource_name = %q", doc.BearerMethods, doc.ResourceName)
			}
		})
	}
	resp, err := http.Post(s.url+"/.well-known/oauth-protected-resource/mcp", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST metadata: status %d, want 405", resp.StatusCode)
	}
}

func TestHealthz(t *testing.T) {
	s := newStack(t, stackOptions{})
	resp, err := http.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("healthz: %d %q", resp.StatusCode, body)
	}
}

// post sends one JSON-RPC message to the MCP endpoint the way a client of
// the given protocol version does (the standard headers of 2026-07-28
// included) and returns the response with its body.
func post(t *testing.T, s stack, token, version, msg string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.resource, strings.NewReader(msg))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if version != "" {
		req.Header.Set("MCP-Protocol-Version", version)
	}
	var m struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	json.Unmarshal([]byte(msg), &m)
	if version >= "2026-07-28" {
		req.Header.Set("Mcp-Method", m.Method)
		if m.Params.Name != "" {
			req.Header.Set("Mcp-Name", m.Params.Name)
		}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
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

// The challenge on the MCP endpoint must lead a client to the metadata and
// ask for the baseline scopes.
func TestChallengePointsAtMetadata(t *testing.T) {
	s := newStack(t, stackOptions{})
	resp, _ := post(t, s, "", "", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, nil)
	challenge := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	want := `Bearer resource_metadata="` + s.url + `/.well-known/oauth-protected-resource/mcp", scope="invoices:read accounting:read"`
	if challenge != want {
		t.Fatalf("WWW-Authenticate = %s\nwant %s", challenge, want)
	}
	meta, err := http.Get(s.url + "/.well-known/oauth-protected-resource/mcp")
	if err != nil {
		t.Fatal(err)
	}
	meta.Body.Close()
	if meta.StatusCode != 200 {
		t.Errorf("metadata at the challenge's URL: status %d", meta.StatusCode)
	}
}

// The step-up challenge, as a client receives it.
func TestInsufficientScopeOnTheWire(t *testing.T) {
	s := newStack(t, stackOptions{})
	resp, body := post(t, s, "acme-reader", "2025-11-25",
		`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"create_invoice","arguments":{}}}`, nil)
	want := `Bearer error="insufficient_scope", scope="invoices:write", resource_metadata="` + s.url +
		`/.well-known/oauth-protected-resource/mcp", error_description="this call needs the scope invoices:write, which the token was not granted; re-authorize asking for it"`
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("HTTP %d, WWW-Authenticate\n %s\nwant\n %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
	if !strings.Contains(body, `"error":"insufficient_scope"`) {
		t.Errorf("body %s", body)
	}
}

type bearer struct {
	token string
	mu    sync.Mutex
	seen  []string // "method version" of each request sent
}

func (b *bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	b.mu.Lock()
	b.seen = append(b.seen, r.Header.Get("Mcp-Method")+" "+r.Header.Get("MCP-Protocol-Version"))
	b.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func connectClient(t *testing.T, s stack, token, version string) (*mcp.ClientSession, *bearer) {
	t.Helper()
	b := &bearer{token: token}
	transport := &mcp.StreamableClientTransport{Endpoint: s.resource, HTTPClient: &http.Client{Transport: b}}
	var opts *mcp.ClientSessionOptions
	if version != "" {
		opts = &mcp.ClientSessionOptions{ProtocolVersion: version}
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(t.Context(), transport, opts)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, b
}

func decode[T any](t *testing.T, res *mcp.CallToolResult) T {
	t.Helper()
	var out T
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Through the real transport, the identity the gate verified reaches the
// tools, and each token only sees its own team.
func TestToolsThroughTheGate(t *testing.T) {
	db := storetest.Seeded(t)
	s := newStack(t, stackOptions{store: db.Store})
	for token, wantPrefix := range map[string]string{"acme-reader": "ACME-", "globex-reader": "GLOBEX-"} {
		cs, _ := connectClient(t, s, token, "")
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_invoices", Arguments: map[string]any{}})
		if err != nil || res.IsError {
			t.Fatalf("%s: list_invoices: %v %+v", token, err, res)
		}
		out := decode[tools.ListInvoicesOutput](t, res)
		if len(out.Invoices) == 0 {
			t.Errorf("%s: no invoices", token)
		}
		for _, inv := range out.Invoices {
			if !strings.HasPrefix(inv.Number, wantPrefix) {
				t.Errorf("%s: invoice %s, want only %s ones", token, inv.Number, wantPrefix)
			}
		}
	}

	cs, _ := connectClient(t, s, "acme-noscope", "")
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	if who := decode[tools.WhoamiOutput](t, res); who.User.Email != "alice@example.com" || who.Team.Slug != "acme" || who.ConnectionID != storetest.AcmeConnection {
		t.Errorf("whoami = %+v", who)
	}
	_, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "list_invoices"})
	if err == nil || !strings.Contains(err.Error(), http.StatusText(http.StatusForbidden)) {
		t.Errorf("list_invoices without invoices:read: error %v, want a 403", err)
	}
}

// Each protocol version the server supports gets through the gate to the
// tools: with the go-sdk client pinned to it (for 2026-07-28 that is
// server/discover rather than initialize), and with raw requests.
func TestProtocolVersions(t *testing.T) {
	db := storetest.Seeded(t)
	s := newStack(t, stackOptions{store: db.Store})
	for _, version := range []string{"2025-06-18", "2025-11-25", "2026-07-28"} {
		t.Run(version, func(t *testing.T) {
			cs, b := connectClient(t, s, "acme-reader", version)
			if got := cs.InitializeResult().ProtocolVersion; got != version {
				t.Errorf("negotiated %s", got)
			}
			tl, err := cs.ListTools(t.Context(), nil)
			if err != nil || len(tl.Tools) != 7 {
				t.Fatalf("tools/list: %v, %d tools", err, len(tl.Tools))
			}
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "get_invoice", Arguments: map[string]any{"invoice": "ACME-2026-0001"}})
			if err != nil || res.IsError {
				t.Fatalf("tools/call: %v %+v", err, res)
			}
			if inv := decode[tools.InvoiceOutput](t, res); inv.Number != "ACME-2026-0001" || len(inv.Lines) == 0 {
				t.Errorf("get_invoice = %+v", inv)
			}
			b.mu.Lock()
			last, first := b.seen[len(b.seen)-1], b.seen[0]
			b.mu.Unlock()
			if last != "tools/call "+version && last != " "+version {
				t.Errorf("the tools/call went out as %q (Mcp-Method, MCP-Protocol-Version)", last)
			}
			if version >= "2026-07-28" && first != "server/discover "+version {
				t.Errorf("the first request went out as %q, want a server/discover", first)
			}

			// The same three steps as raw HTTP: initialize (server/discover
			// from 2026-07-28 on), tools/list, tools/call.
			first, header := rpc(1, "initialize", map[string]any{"protocolVersion": version, "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "raw", "version": "1"}}, ""), ""
			if version >= "2026-07-28" {
				first, header = rpc(1, "server/discover", map[string]any{}, version), version
			}
			resp, body := post(t, s, "acme-reader", header, first, nil)
			if resp.StatusCode != 200 || !strings.Contains(body, `"`+version+`"`) {
				t.Errorf("raw %s: HTTP %d %.300s", first, resp.StatusCode, body)
			}
			resp, body = post(t, s, "acme-reader", version, rpc(2, "tools/list", map[string]any{}, version), nil)
			if resp.StatusCode != 200 || !strings.Contains(body, `"create_transaction"`) {
				t.Errorf("raw tools/list: HTTP %d %.300s", resp.StatusCode, body)
			}
			resp, body = post(t, s, "acme-reader", version, rpc(3, "tools/call", map[string]any{"name": "list_invoices", "arguments": map[string]any{"limit": 1}}, version), nil)
			if resp.StatusCode != 200 || !strings.Contains(body, `ACME-2026-0012`) {
				t.Errorf("raw tools/call: HTTP %d %.300s", resp.StatusCode, body)
			}
		})
	}
}

// A database that is down is a 503, never a tool result: normally the
// gate's connection check meets the outage first; if the database goes down
// between that check and the tool's query, the tool's failure turns the
// answer into the same 503.
func TestDatabaseOutageIs503(t *testing.T) {
	db := storetest.Seeded(t)
	db.Pool.Close()
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","arguments":{}}}`
	for _, tt := range []struct {
		name        string
		connections gate.Connections
	}{
		{"at the gate", db.Store},
		{"under the tool", connections{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newStack(t, stackOptions{store: db.Store, connections: tt.connections})
			resp, body := post(t, s, "acme-reader", "2025-11-25", call, nil)
			if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("HTTP %d, Retry-After %q, Content-Type %q", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
			}
			if strings.Contains(body, "result") || !strings.Contains(body, `"error":"temporarily_unavailable"`) || !strings.Contains(body, "database") {
				t.Errorf("body %s", body)
			}
		})
	}
	// A database that accepts connections but never answers: the gate's
	// timeout turns it into the same 503.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	hung, err := pgxpool.New(t.Context(), "postgres://app@"+silent.Addr().String()+"/app")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	hungStore := store.New(hung)
	s := newStack(t, stackOptions{store: hungStore, connections: hungStore, verifyTimeout: 300 * time.Millisecond})
	started := time.Now()
	resp, body := post(t, s, "acme-reader", "2025-11-25", call, nil)
	if took := time.Since(started); resp.StatusCode != http.StatusServiceUnavailable || took > 5*time.Second {
		t.Errorf("database not answering: HTTP %d after %s (timeout 300ms): %s", resp.StatusCode, took, body)
	}

	// Under the tool, calls that need no database still work.
	s = newStack(t, stackOptions{store: db.Store})
	if resp, body := post(t, s, "acme-reader", "2025-11-25", `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, nil); resp.StatusCode != 200 {
		t.Errorf("tools/list during the outage: HTTP %d %s", resp.StatusCode, body)
	}
}

// Behind a reverse proxy the server listens on loopback and every request
// carries the public Host; DNS rebinding carries another one.
func TestHostHeader(t *testing.T) {
	db := storetest.Seeded(t)
	proxied := newStack(t, stackOptions{store: db.Store, resource: "https://mcp.example.com/mcp"})
	proxied.resource = proxied.url + "/mcp" // where the proxy sends requests
	local := newStack(t, stackOptions{store: db.Store})
	list := `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`
	for _, tt := range []struct {
		name string
		s    stack
		host string
		want int
	}{
		{"proxied, public host", proxied, "mcp.example.com", 200},
		{"proxied, loopback host", proxied, "127.0.0.1:8080", 200},
		{"proxied, rebound host", proxied, "evil.example", 403},
		{"local, own host", local, "", 200},
		{"local, rebound host", local, "evil.example:8080", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, tt.s.resource, strings.NewReader(list))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer acme-reader")
			if tt.host != "" {
				req.Host = tt.host
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("HTTP %d %s, want %d", resp.StatusCode, body, tt.want)
			}
		})
	}
}

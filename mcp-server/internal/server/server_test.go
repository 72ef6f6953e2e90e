package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/tools"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	issuer   = "http://localhost:3000"
	acmeID   = "11111111-1111-1111-1111-111111111111"
	globexID = "22222222-2222-2222-2222-222222222222"
	aliceID  = "77777777-7777-7777-7777-777777777777"
	acmeConn = "33333333-3333-3333-3333-333333333333"
	globConn = "44444444-4444-4444-4444-444444444444"
)

// fakeStore serves both the gate and the tools.
type fakeStore struct{}

func (fakeStore) Connection(_ context.Context, id string) (store.Connection, error) {
	switch id {
	case acmeConn:
		return store.Connection{ID: id, UserID: aliceID, TeamID: acmeID}, nil
	case globConn:
		return store.Connection{ID: id, UserID: aliceID, TeamID: globexID}, nil
	}
	return store.Connection{}, store.ErrNotFound
}

func (fakeStore) User(context.Context, string) (store.User, error) {
	return store.User{ID: aliceID, Email: "alice@example.com"}, nil
}

func (fakeStore) Team(_ context.Context, id string) (store.Team, error) {
	if id == acmeID {
		return store.Team{ID: id, Slug: "acme", Name: "Acme Corp"}, nil
	}
	return store.Team{ID: id, Slug: "globex", Name: "Globex"}, nil
}

func (fakeStore) ListInvoices(_ context.Context, teamID string, _ store.InvoiceQuery) (store.InvoicePage, error) {
	prefix := map[string]string{acmeID: "ACME", globexID: "GLOBEX"}[teamID]
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	return store.InvoicePage{Invoices: []store.Invoice{{
		Number: prefix + "-2026-0001", Customer: "Initech", AmountCents: 100, Currency: "USD", Status: "sent", IssuedOn: day, DueOn: day,
	}}}, nil
}

// stack runs the real handler on a loopback port, with a fake Hydra that
// knows three tokens.
type stack struct {
	url, resource string
}

func newStack(t *testing.T) stack {
	t.Helper()
	var resource string
	hydra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims := map[string]map[string]any{
			"acme-reader":   {"team_id": acmeID, "connection_id": acmeConn, "scope": "invoices:read"},
			"globex-reader": {"team_id": globexID, "connection_id": globConn, "scope": "invoices:read"},
			"acme-noscope":  {"team_id": acmeID, "connection_id": acmeConn, "scope": "offline_access"},
		}[r.PostFormValue("token")]
		if claims == nil {
			json.NewEncoder(w).Encode(map[string]any{"active": false})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"active": true, "token_use": "access_token", "aud": []string{resource}, "sub": aliceID,
			"exp": time.Now().Add(time.Hour).Unix(), "client_id": "client-1", "scope": claims["scope"],
			"ext": map[string]any{"team_id": claims["team_id"], "connection_id": claims["connection_id"]},
		})
	}))
	t.Cleanup(hydra.Close)

	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	resource = srv.URL + "/mcp"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	handler = Handler(Options{
		Resource: resource,
		Issuer:   issuer,
		Gate: gate.New(gate.Options{
			Resource:     resource,
			Introspector: introspect.New(hydra.URL+"/admin/oauth2/introspect", nil),
			Connections:  fakeStore{},
			Logger:       log,
		}),
		MCP:    tools.NewServer(fakeStore{}, log, "test"),
		Logger: log,
	})
	return stack{url: srv.URL, resource: resource}
}

func TestProtectedResourceMetadata(t *testing.T) {
	s := newStack(t)
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
			if !slices.Equal(doc.ScopesSupported, catalog.Names()) || slices.Contains(doc.ScopesSupported, catalog.OfflineAccess) {
				t.Errorf("scopes_supported = %q, want the catalog without offline_access", doc.ScopesSupported)
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
	s := newStack(t)
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

// The challenge on the MCP endpoint must lead a client to the metadata.
func TestChallengePointsAtMetadata(t *testing.T) {
	s := newStack(t)
	resp, err := http.Post(s.resource, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	challenge := resp.Header.Get("WWW-Authenticate")
	if resp.StatusCode != 401 {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	_, rest, _ := strings.Cut(challenge, `resource_metadata="`)
	metadataURL, _, _ := strings.Cut(rest, `"`)
	if metadataURL != s.url+"/.well-known/oauth-protected-resource/mcp" {
		t.Fatalf("resource_metadata = %q in %q", metadataURL, challenge)
	}
	meta, err := http.Get(metadataURL)
	if err != nil {
		t.Fatal(err)
	}
	meta.Body.Close()
	if meta.StatusCode != 200 {
		t.Errorf("metadata at the challenge's URL: status %d", meta.StatusCode)
	}
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func connectClient(t *testing.T, s stack, token string) *mcp.ClientSession {
	t.Helper()
	transport := &mcp.StreamableClientTransport{Endpoint: s.resource, HTTPClient: &http.Client{Transport: bearer{token}}}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(context.Background(), transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// Through the real transport, the identity the gate verified reaches the
// tools, and each token only sees its own team.
func TestToolsThroughTheGate(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	for token, wantPrefix := range map[string]string{"acme-reader": "ACME-", "globex-reader": "GLOBEX-"} {
		cs := connectClient(t, s, token)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_invoices", Arguments: map[string]any{}})
		if err != nil || res.IsError {
			t.Fatalf("%s: list_invoices: %v %+v", token, err, res)
		}
		var out tools.ListInvoicesOutput
		b, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(b, &out)
		if len(out.Invoices) != 1 || !strings.HasPrefix(out.Invoices[0].Number, wantPrefix) {
			t.Errorf("%s: invoices %+v, want only %s ones", token, out.Invoices, wantPrefix)
		}
	}

	cs := connectClient(t, s, "acme-noscope")
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil || res.IsError {
		t.Fatalf("whoami: %v %+v", err, res)
	}
	var who tools.WhoamiOutput
	b, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(b, &who)
	if who.User.Email != "alice@example.com" || who.Team.Slug != "acme" || who.ConnectionID != acmeConn {
		t.Errorf("whoami = %+v", who)
	}
	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_invoices"})
	if err == nil || !strings.Contains(err.Error(), http.StatusText(http.StatusForbidden)) {
		t.Errorf("list_invoices without invoices:read: error %v, want a 403", err)
	}
}

package tools

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	acmeID   = "11111111-1111-1111-1111-111111111111"
	globexID = "22222222-2222-2222-2222-222222222222"
	aliceID  = "77777777-7777-7777-7777-777777777777"
)

// fakeStore holds invoices per team and remembers the last query.
type fakeStore struct {
	invoices  map[string][]store.Invoice
	lastTeam  string
	lastQuery store.InvoiceQuery
	fail      error
}

func (f *fakeStore) User(_ context.Context, id string) (store.User, error) {
	if id != aliceID {
		return store.User{}, store.ErrNotFound
	}
	return store.User{ID: aliceID, Email: "alice@example.com", DisplayName: "Alice"}, nil
}

func (f *fakeStore) Team(_ context.Context, id string) (store.Team, error) {
	switch id {
	case acmeID:
		return store.Team{ID: acmeID, Slug: "acme", Name: "Acme Corp", InvoicePrefix: "ACME"}, nil
	case globexID:
		return store.Team{ID: globexID, Slug: "globex", Name: "Globex", InvoicePrefix: "GLOBEX"}, nil
	}
	return store.Team{}, store.ErrNotFound
}

func (f *fakeStore) ListInvoices(_ context.Context, teamID string, q store.InvoiceQuery) (store.InvoicePage, error) {
	f.lastTeam, f.lastQuery = teamID, q
	if f.fail != nil {
		return store.InvoicePage{}, f.fail
	}
	if q.Cursor == "bogus" {
		return store.InvoicePage{}, store.ErrBadCursor
	}
	return store.InvoicePage{Invoices: f.invoices[teamID], Next: "next-page"}, nil
}

func newStore() *fakeStore {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	return &fakeStore{invoices: map[string][]store.Invoice{
		acmeID:   {{Number: "ACME-2026-0001", Customer: "Initech LLC", AmountCents: 1_250_000, Currency: "USD", Status: "paid", IssuedOn: day(6), DueOn: day(31)}},
		globexID: {{Number: "GLOBEX-2026-0001", Customer: "Hooli", AmountCents: 100, Currency: "EUR", Status: "sent", IssuedOn: day(2), DueOn: day(9)}},
	}}
}

// connect runs the server in memory; its tool contexts carry id, as the
// gate's would.
func connect(t *testing.T, st Store, id *gate.Identity) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	if id != nil {
		ctx = gate.WithIdentity(ctx, id)
	}
	srv := NewServer(st, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
	ct, st2 := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st2, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func acmeIdentity(scopes ...string) *gate.Identity {
	return &gate.Identity{UserID: aliceID, TeamID: acmeID, TeamSlug: "acme", ConnectionID: "conn-1", ClientID: "client-1", Scopes: scopes}
}

// call calls a tool and decodes its structured output into out. It returns
// the text of a tool error, or "".
func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any, out any) string {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s): %v", name, err)
	}
	if res.IsError {
		return res.Content[0].(*mcp.TextContent).Text
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decode %s output %s: %v", name, b, err)
	}
	return ""
}

func TestToolsAreInTheCatalogAndReadOnly(t *testing.T) {
	cs := connect(t, newStore(), acmeIdentity())
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if _, known := catalog.ScopeForTool(tool.Name); !known {
			t.Errorf("tool %s is not in the scope catalog", tool.Name)
		}
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint || tool.Description == "" {
			t.Errorf("tool %s: want a description and readOnlyHint", tool.Name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"list_invoices", "whoami"}) {
		t.Errorf("tools = %q", names)
	}
}

func TestWhoami(t *testing.T) {
	cs := connect(t, newStore(), acmeIdentity("invoices:read", "offline_access"))
	var out WhoamiOutput
	if msg := call(t, cs, "whoami", nil, &out); msg != "" {
		t.Fatalf("whoami failed: %s", msg)
	}
	if out.User.Email != "alice@example.com" || out.Team.Slug != "acme" || out.Team.Name != "Acme Corp" ||
		out.ClientID != "client-1" || out.ConnectionID != "conn-1" ||
		!slices.Equal(out.Scopes, []string{"invoices:read", "offline_access"}) {
		t.Errorf("whoami = %+v", out)
	}
}

func TestWhoamiWithoutScopesListsNone(t *testing.T) {
	cs := connect(t, newStore(), acmeIdentity())
	var out WhoamiOutput
	if msg := call(t, cs, "whoami", nil, &out); msg != "" {
		t.Fatalf("whoami failed: %s", msg)
	}
	if out.Scopes == nil || len(out.Scopes) != 0 {
		t.Errorf("scopes = %#v, want empty list", out.Scopes)
	}
}

func TestListInvoicesUsesTheConnectionsTeam(t *testing.T) {
	st := newStore()
	cs := connect(t, st, acmeIdentity("invoices:read"))
	var out ListInvoicesOutput
	// A team_id argument is not part of the schema and must change nothing.
	if msg := call(t, cs, "list_invoices", map[string]any{"status": "paid"}, &out); msg != "" {
		t.Fatalf("list_invoices failed: %s", msg)
	}
	if st.lastTeam != acmeID {
		t.Errorf("queried team %q, want the connection's team %q", st.lastTeam, acmeID)
	}
	if st.lastQuery.Status != "paid" || st.lastQuery.Limit != defaultInvoiceLimit {
		t.Errorf("query = %+v, want status paid and the default limit", st.lastQuery)
	}
	want := InvoiceOutput{Number: "ACME-2026-0001", Customer: "Initech LLC", AmountCents: 1_250_000, Currency: "USD",
		Status: "paid", IssuedOn: "2026-01-06", DueOn: "2026-01-31"}
	if len(out.Invoices) != 1 || out.Invoices[0] != want || out.NextCursor != "next-page" {
		t.Errorf("output = %+v", out)
	}
}

func TestListInvoicesArguments(t *testing.T) {
	tests := []struct {
		name      string
		args      map[string]any
		wantError string // substring of the tool error; "" for success
		wantLimit int
	}{
		// A nil map is sent as "arguments": null, which crashes go-sdk v1.8.0
		// when the schema declares defaults (see listInvoicesSchema).
		{name: "null arguments use the default limit", args: nil, wantLimit: defaultInvoiceLimit},
		{name: "explicit limit", args: map[string]any{"limit": 100}, wantLimit: 100},
		{name: "limit too large", args: map[string]any{"limit": 101}, wantError: "limit"},
		{name: "limit zero", args: map[string]any{"limit": 0}, wantError: "limit"},
		{name: "unknown status", args: map[string]any{"status": "stolen"}, wantError: "status"},
		{name: "bad cursor", args: map[string]any{"cursor": "bogus"}, wantError: "invalid cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore()
			cs := connect(t, st, acmeIdentity("invoices:read"))
			var out ListInvoicesOutput
			msg := call(t, cs, "list_invoices", tt.args, &out)
			if tt.wantError == "" {
				if msg != "" || st.lastQuery.Limit != tt.wantLimit {
					t.Errorf("error %q, limit %d; want success with limit %d", msg, st.lastQuery.Limit, tt.wantLimit)
				}
				return
			}
			if !strings.Contains(msg, tt.wantError) {
				t.Errorf("tool error = %q, want it to mention %q", msg, tt.wantError)
			}
		})
	}
}

func TestListInvoicesHidesDatabaseErrors(t *testing.T) {
	st := newStore()
	st.fail = errors.New(`pq: relation "invoices" does not exist`)
	cs := connect(t, st, acmeIdentity("invoices:read"))
	msg := call(t, cs, "list_invoices", nil, &ListInvoicesOutput{})
	if msg == "" || strings.Contains(msg, "relation") {
		t.Errorf("tool error = %q, want a generic message", msg)
	}
}

// The gate refuses calls without the scope; the tools must refuse them too
// in case a request ever slips past it.
func TestToolsRecheckScopeAndIdentity(t *testing.T) {
	cs := connect(t, newStore(), acmeIdentity("offline_access"))
	if msg := call(t, cs, "list_invoices", nil, &ListInvoicesOutput{}); !strings.Contains(msg, "invoices:read") {
		t.Errorf("list_invoices without scope: error %q, want a scope error", msg)
	}
	cs = connect(t, newStore(), nil)
	if msg := call(t, cs, "whoami", nil, &WhoamiOutput{}); !strings.Contains(msg, "unauthenticated") {
		t.Errorf("whoami without identity: error %q, want unauthenticated", msg)
	}
}

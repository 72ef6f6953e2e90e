package tools

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	acmeID   = storetest.AcmeID
	globexID = storetest.GlobexID
	aliceID  = storetest.AliceID
)

// fixedNow is "today" for default dates.
var fixedNow = time.Date(2026, 11, 28, 15, 4, 5, 0, time.UTC)

// connect runs the server in memory over st; its tool contexts carry id, as
// the gate's would.
func connect(t *testing.T, st Store, id *gate.Identity) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	if id != nil {
		ctx = gate.WithIdentity(ctx, id)
	}
	srv := NewServer(Options{Store: st, Logger: storetest.Discard, Version: "test", Now: func() time.Time { return fixedNow }})
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

func identity(teamID string, scopes ...string) *gate.Identity {
	return &gate.Identity{UserID: aliceID, TeamID: teamID, ConnectionID: "conn-1", ClientID: "client-1", Scopes: scopes}
}

// everything is every catalog scope.
var everything = catalog.Names()

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

func TestToolsMatchTheCatalog(t *testing.T) {
	cs := connect(t, nil, nil)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	want = append(want, catalog.NoScopeTools...)
	for _, s := range catalog.All() {
		want = append(want, s.Tools...)
	}
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		scope, _ := catalog.ScopeForTool(tool.Name)
		access := catalog.Read
		if s, ok := catalog.Lookup(scope); ok {
			access = s.Access
		}
		a := tool.Annotations
		switch {
		case a == nil:
			t.Errorf("%s has no annotations", tool.Name)
		case access == catalog.Read && (!a.ReadOnlyHint || !a.IdempotentHint):
			t.Errorf("%s needs a read scope but is not annotated read-only and idempotent: %+v", tool.Name, a)
		case access == catalog.Write && (a.ReadOnlyHint || a.DestructiveHint == nil || *a.DestructiveHint || a.IdempotentHint):
			// A nil destructiveHint means "destructive" to clients.
			t.Errorf("%s adds records: want not read-only, destructive false, not idempotent; got %+v", tool.Name, a)
		case a.OpenWorldHint == nil || *a.OpenWorldHint:
			t.Errorf("%s touches only the team's own data; openWorldHint = %v", tool.Name, a.OpenWorldHint)
		}
		if len(tool.Description) < 60 || tool.InputSchema == nil || tool.OutputSchema == nil {
			t.Errorf("%s: description %q, input schema %v, output schema %v", tool.Name, tool.Description, tool.InputSchema != nil, tool.OutputSchema != nil)
		}
		if strings.Contains(string(mustJSON(t, tool.InputSchema)), `"default"`) {
			t.Errorf("%s: the input schema declares a default, which crashes go-sdk v1.8.0 on null arguments", tool.Name)
		}
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("tools = %q, want the catalog's %q", names, want)
	}
}

// The server declares exactly what the SDK answers: prompts and resources
// (empty lists) as well as tools, none of them with listChanged, since no
// list ever changes; and no completions, which it does not answer.
func TestDeclaredCapabilities(t *testing.T) {
	cs := connect(t, nil, nil)
	caps := cs.InitializeResult().Capabilities
	if caps.Tools == nil || caps.Prompts == nil || caps.Resources == nil {
		t.Fatalf("capabilities %+v: want tools, prompts and resources declared", caps)
	}
	if caps.Tools.ListChanged || caps.Prompts.ListChanged || caps.Resources.ListChanged || caps.Resources.Subscribe {
		t.Errorf("capabilities %+v %+v %+v: want no listChanged and no subscribe", caps.Tools, caps.Prompts, caps.Resources)
	}
	if caps.Completions != nil {
		t.Errorf("completions declared: %+v", caps.Completions)
	}
	ctx := context.Background()
	if p, err := cs.ListPrompts(ctx, nil); err != nil || len(p.Prompts) != 0 {
		t.Errorf("prompts/list: %v, %d prompts", err, len(p.Prompts))
	}
	if r, err := cs.ListResources(ctx, nil); err != nil || len(r.Resources) != 0 {
		t.Errorf("resources/list: %v, %d resources", err, len(r.Resources))
	}
	if r, err := cs.ListResourceTemplates(ctx, nil); err != nil || len(r.ResourceTemplates) != 0 {
		t.Errorf("resources/templates/list: %v, %d templates", err, len(r.ResourceTemplates))
	}
	if _, err := cs.Complete(ctx, &mcp.CompleteParams{Ref: &mcp.CompleteReference{Type: "ref/prompt", Name: "p"},
		Argument: mcp.CompleteParamsArgument{Name: "a", Value: "b"}}); err == nil {
		t.Error("completion/complete answered, but completions are not declared")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWhoami(t *testing.T) {
	db := storetest.New(t)
	cs := connect(t, db.Store, identity(acmeID, "invoices:read", "offline_access"))
	var out WhoamiOutput
	if msg := call(t, cs, "whoami", nil, &out); msg != "" {
		t.Fatalf("whoami failed: %s", msg)
	}
	if out.User.Email != "alice@example.com" || out.Team.Slug != "acme" || out.Team.Name != "Acme Corp" ||
		out.ClientID != "client-1" || out.ConnectionID != "conn-1" ||
		!slices.Equal(out.Scopes, []string{"invoices:read", "offline_access"}) {
		t.Errorf("whoami = %+v", out)
	}
	cs = connect(t, db.Store, identity(acmeID))
	if msg := call(t, cs, "whoami", nil, &out); msg != "" || out.Scopes == nil || len(out.Scopes) != 0 {
		t.Errorf("whoami without scopes: %q, scopes %#v; want an empty list", msg, out.Scopes)
	}
}

func TestListsShowOnlyTheConnectionsTeam(t *testing.T) {
	db := storetest.Seeded(t)
	for team, prefix := range map[string]string{acmeID: "ACME-", globexID: "GLOBEX-"} {
		cs := connect(t, db.Store, identity(team, everything...))
		var invoices ListInvoicesOutput
		if msg := call(t, cs, "list_invoices", map[string]any{"limit": 100}, &invoices); msg != "" || len(invoices.Invoices) != 12 {
			t.Fatalf("list_invoices: %q, %d invoices", msg, len(invoices.Invoices))
		}
		var estimates ListEstimatesOutput
		if msg := call(t, cs, "list_estimates", nil, &estimates); msg != "" || len(estimates.Estimates) != 5 {
			t.Fatalf("list_estimates: %q, %+v", msg, estimates)
		}
		var txs ListTransactionsOutput
		if msg := call(t, cs, "list_transactions", map[string]any{"limit": 100}, &txs); msg != "" || len(txs.Transactions) != 50 || len(txs.Totals) != 1 {
			t.Fatalf("list_transactions: %q, %d transactions, totals %+v", msg, len(txs.Transactions), txs.Totals)
		}
		var numbers []string
		for _, inv := range invoices.Invoices {
			numbers = append(numbers, inv.Number)
		}
		for _, e := range estimates.Estimates {
			numbers = append(numbers, e.Number)
		}
		for _, tr := range txs.Transactions {
			numbers = append(numbers, tr.Reference, tr.InvoiceNumber)
		}
		for _, n := range numbers {
			if n != "" && !strings.HasPrefix(n, prefix) {
				t.Errorf("team %s sees %s", prefix, n)
			}
		}
	}
}

func TestPaging(t *testing.T) {
	db := storetest.Seeded(t)
	cs := connect(t, db.Store, identity(acmeID, everything...))
	var first, second ListInvoicesOutput
	if msg := call(t, cs, "list_invoices", nil, &first); msg != "" || len(first.Invoices) != 12 || first.NextCursor != "" {
		t.Fatalf("default page: %q, %d invoices, cursor %q; want all 12 in one page of 20", msg, len(first.Invoices), first.NextCursor)
	}
	if msg := call(t, cs, "list_invoices", map[string]any{"limit": 7}, &first); msg != "" || len(first.Invoices) != 7 || first.NextCursor == "" {
		t.Fatalf("first page: %q, %+v", msg, first)
	}
	if msg := call(t, cs, "list_invoices", map[string]any{"limit": 7, "cursor": first.NextCursor}, &second); msg != "" || len(second.Invoices) != 5 || second.NextCursor != "" {
		t.Fatalf("second page: %q, %+v", msg, second)
	}
	if first.Invoices[6].Number <= second.Invoices[0].Number {
		t.Errorf("pages overlap or are out of order: %s then %s", first.Invoices[6].Number, second.Invoices[0].Number)
	}
	// A cursor of one listing is refused by another.
	if msg := call(t, cs, "list_transactions", map[string]any{"cursor": first.NextCursor}, &ListTransactionsOutput{}); !strings.Contains(msg, "cursor") {
		t.Errorf("invoice cursor on list_transactions: %q", msg)
	}
}

// Every invalid argument gets a tool error that names what to fix.
func TestInvalidArguments(t *testing.T) {
	db := storetest.Seeded(t)
	cs := connect(t, db.Store, identity(acmeID, everything...))
	line := map[string]any{"description": "Consulting", "quantity": 2, "unit_price_cents": 15000}
	invoice := func(change map[string]any) map[string]any {
		args := map[string]any{"customer": "Initech", "currency": "USD", "lines": []any{line}}
		for k, v := range change {
			args[k] = v
		}
		return args
	}
	transaction := func(change map[string]any) map[string]any {
		args := map[string]any{"description": "Rent", "counterparty": "Landlord", "amount_cents": -1000, "currency": "USD"}
		for k, v := range change {
			args[k] = v
		}
		return args
	}
	tests := []struct {
		tool    string
		args    map[string]any
		mention []string // the error must contain all of these
	}{
		{"list_invoices", map[string]any{"limit": 101}, []string{"limit"}},
		{"list_invoices", map[string]any{"limit": 0}, []string{"limit"}},
		{"list_invoices", map[string]any{"limit": "ten"}, []string{"limit"}},
		{"list_invoices", map[string]any{"status": "stolen"}, []string{"status"}},
		{"list_invoices", map[string]any{"cursor": "bogus"}, []string{"cursor", "next_cursor"}},
		{"list_invoices", map[string]any{"team_id": globexID}, []string{"team_id"}},
		{"list_estimates", map[string]any{"status": "paid"}, []string{"status"}},
		{"list_estimates", map[string]any{"cursor": "bogus"}, []string{"cursor", "list_estimates"}},
		{"list_transactions", map[string]any{"cursor": "bogus"}, []string{"cursor", "list_transactions"}},
		{"get_invoice", map[string]any{}, []string{"invoice"}},
		{"get_invoice", map[string]any{"invoice": "  "}, []string{"invoice", "list_invoices"}},
		{"list_transactions", map[string]any{"from": "2026-13-01"}, []string{"from", "YYYY-MM-DD"}},
		{"list_transactions", map[string]any{"from": "2026-05-01", "to": "2026-04-01"}, []string{"to", "before"}},
		{"create_invoice", map[string]any{}, []string{"customer"}},
		{"create_invoice", invoice(map[string]any{"customer": "   "}), []string{"customer", "empty"}},
		{"create_invoice", invoice(map[string]any{"currency": "usd"}), []string{"currency"}},
		{"create_invoice", invoice(map[string]any{"lines": []any{}}), []string{"lines"}},
		{"create_invoice", invoice(map[string]any{"lines": []any{map[string]any{"description": "x", "quantity": 0, "unit_price_cents": 1}}}), []string{"quantity"}},
		{"create_invoice", invoice(map[string]any{"lines": []any{map[string]any{"description": "x", "quantity": 1.2345, "unit_price_cents": 1}}}), []string{"quantity", "decimals"}},
		{"create_invoice", invoice(map[string]any{"lines": []any{map[string]any{"description": "x", "quantity": 1, "unit_price_cents": -5}}}), []string{"unit_price_cents"}},
		{"create_invoice", invoice(map[string]any{"status": "paid"}), []string{"status"}},
		{"create_invoice", invoice(map[string]any{"issued_on": "28/11/2026"}), []string{"issued_on", "YYYY-MM-DD"}},
		{"create_invoice", invoice(map[string]any{"issued_on": "2026-11-28", "due_on": "2026-11-01"}), []string{"due_on", "before"}},
		{"create_invoice", invoice(map[string]any{"issued_on": "1999-12-31"}), []string{"issued_on", "2000"}},
		{"create_transaction", transaction(map[string]any{"amount_cents": 0}), []string{"amount_cents"}},
		{"create_transaction", transaction(map[string]any{"amount_cents": 12.5}), []string{"amount_cents"}},
		{"create_transaction", transaction(map[string]any{"counterparty": ""}), []string{"counterparty"}},
		{"create_transaction", transaction(map[string]any{"booked_on": "yesterday"}), []string{"booked_on"}},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+string(mustJSON(t, tt.args)), func(t *testing.T) {
			msg := call(t, cs, tt.tool, tt.args, new(map[string]any))
			if !strings.HasPrefix(msg, "invalid argument") {
				t.Fatalf("error %q, want an invalid-argument tool error", msg)
			}
			for _, m := range tt.mention {
				if !strings.Contains(msg, m) {
					t.Errorf("error %q does not mention %q", msg, m)
				}
			}
		})
	}
	// Nothing was created by the refused calls.
	var list ListInvoicesOutput
	call(t, cs, "list_invoices", map[string]any{"limit": 100}, &list)
	if len(list.Invoices) != 12 {
		t.Errorf("%d invoices after refused creates, want 12", len(list.Invoices))
	}
}

// "arguments": null must never crash the server (go-sdk v1.8.0 panics when a
// schema has defaults); each tool answers it with a result or a tool error.
func TestNullArguments(t *testing.T) {
	db := storetest.Seeded(t)
	cs := connect(t, db.Store, identity(acmeID, everything...))
	tools, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool.Name, Arguments: nil})
		if err != nil || res == nil {
			t.Errorf("%s with null arguments: %v", tool.Name, err)
		}
	}
}

func TestGetInvoiceOfAnotherTeamIsNotFound(t *testing.T) {
	db := storetest.Seeded(t)
	acme := connect(t, db.Store, identity(acmeID, everything...))
	globex := connect(t, db.Store, identity(globexID, everything...))
	var theirs InvoiceOutput
	if msg := call(t, globex, "get_invoice", map[string]any{"invoice": "GLOBEX-2026-0002"}, &theirs); msg != "" || len(theirs.Lines) == 0 {
		t.Fatalf("globex's own invoice: %q, %+v", msg, theirs)
	}
	var mine InvoiceOutput
	if msg := call(t, acme, "get_invoice", map[string]any{"invoice": "ACME-2026-0002"}, &mine); msg != "" || mine.Number != "ACME-2026-0002" {
		t.Fatalf("acme's own invoice: %q, %+v", msg, mine)
	}
	const missingID = "99999999-9999-9999-9999-999999999999"
	missing := call(t, acme, "get_invoice", map[string]any{"invoice": missingID}, new(InvoiceOutput))
	for _, ref := range []string{theirs.ID, theirs.Number} {
		got := call(t, acme, "get_invoice", map[string]any{"invoice": ref}, new(InvoiceOutput))
		if want := strings.ReplaceAll(missing, missingID, ref); got != want || got == "" {
			t.Errorf("another team's %q: %q, want exactly the missing-id answer %q", ref, got, want)
		}
	}
}

func TestCreateInvoice(t *testing.T) {
	db := storetest.Seeded(t)
	cs := connect(t, db.Store, identity(acmeID, everything...))
	var created InvoiceOutput
	msg := call(t, cs, "create_invoice", map[string]any{
		"customer": " Wonka Confections ", "currency": "EUR",
		"lines": []any{
			map[string]any{"description": "Consulting (hours)", "quantity": 7.5, "unit_price_cents": 15000},
			map[string]any{"description": "Travel", "quantity": 1, "unit_price_cents": 4250},
		},
	}, &created)
	if msg != "" {
		t.Fatal(msg)
	}
	want := InvoiceSummary{ID: created.ID, Number: "ACME-2026-0013", Customer: "Wonka Confections", TotalCents: 112_500 + 4_250,
		Currency: "EUR", Status: "draft", IssuedOn: "2026-11-28", DueOn: "2026-12-28"}
	if created.InvoiceSummary != want || len(created.Lines) != 2 || created.Lines[0].AmountCents != 112_500 {
		t.Errorf("created %+v, want %+v", created, want)
	}
	var got InvoiceOutput
	if msg := call(t, cs, "get_invoice", map[string]any{"invoice": created.ID}, &got); msg != "" || got.Number != created.Number {
		t.Errorf("get the new invoice: %q, %+v", msg, got)
	}
}

func TestCreateTransaction(t *testing.T) {
	db := storetest.Seeded(t)
	acme := connect(t, db.Store, identity(acmeID, everything...))
	var tr TransactionOutput
	msg := call(t, acme, "create_transaction", map[string]any{
		"description": "Payment", "counterparty": "Wonka Confections", "amount_cents": 250000, "currency": "USD", "invoice": "ACME-2026-0011",
	}, &tr)
	if msg != "" {
		t.Fatal(msg)
	}
	if tr.Reference != "ACME-TX-2026-0051" || tr.BookedOn != "2026-11-28" || tr.InvoiceNumber != "ACME-2026-0011" || tr.AmountCents != 250000 {
		t.Errorf("recorded %+v", tr)
	}
	for _, ref := range []string{"GLOBEX-2026-0011", "ACME-2026-9999"} {
		got := call(t, acme, "create_transaction", map[string]any{
			"description": "Payment", "counterparty": "x", "amount_cents": 1, "currency": "USD", "invoice": ref,
		}, new(TransactionOutput))
		if want := `invoice "` + ref + `" not found`; !strings.HasPrefix(got, want) {
			t.Errorf("payment for %s: %q, want %q…", ref, got, want)
		}
	}
}

// The gate refuses calls without the scope; the tools must refuse them too
// in case a request ever slips past it.
func TestToolsRecheckScopeAndIdentity(t *testing.T) {
	db := storetest.Seeded(t)
	cs := connect(t, db.Store, identity(acmeID, "invoices:read", "offline_access"))
	if msg := call(t, cs, "create_invoice", map[string]any{"customer": "x", "currency": "USD", "lines": []any{map[string]any{"description": "x", "quantity": 1, "unit_price_cents": 1}}}, new(InvoiceOutput)); !strings.Contains(msg, "invoices:write") {
		t.Errorf("create_invoice without scope: error %q, want a scope error", msg)
	}
	cs = connect(t, db.Store, nil)
	if msg := call(t, cs, "whoami", nil, &WhoamiOutput{}); !strings.Contains(msg, "unauthenticated") {
		t.Errorf("whoami without identity: error %q, want unauthenticated", msg)
	}
}

func TestDatabaseErrorsStayInTheLog(t *testing.T) {
	db := storetest.Seeded(t)
	db.Pool.Close()
	cs := connect(t, db.Store, identity(acmeID, everything...))
	for _, tool := range []string{"list_invoices", "list_estimates", "list_transactions", "whoami"} {
		msg := call(t, cs, tool, nil, new(map[string]any))
		if msg != errUnavailable.Error() {
			t.Errorf("%s on a closed pool: %q, want %q", tool, msg, errUnavailable)
		}
	}
}

// TestNULInArguments: a NUL, which PostgreSQL cannot hold in text, is the
// caller's mistake: a tool error saying so, not an outage (which the gate
// would turn into a 503).
func TestNULInArguments(t *testing.T) {
	db := storetest.Seeded(t)
	cs := connect(t, db.Store, identity(acmeID, everything...))
	line := map[string]any{"description": "Consulting", "quantity": 1, "unit_price_cents": 100}
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_invoice", map[string]any{"invoice": "ACME-\x00"}},
		{"list_invoices", map[string]any{"customer": "\x00"}},
		{"create_invoice", map[string]any{"customer": "a\x00b", "currency": "EUR", "lines": []any{line}}},
		{"create_transaction", map[string]any{"description": "x\x00", "counterparty": "y", "amount_cents": 5, "currency": "EUR"}},
	} {
		if msg := call(t, cs, c.tool, c.args, new(map[string]any)); msg != errUnstorableText.Error() {
			t.Errorf("%s(%q): %q, want %q", c.tool, c.args, msg, errUnstorableText)
		}
	}
}

func TestExplainSchemaError(t *testing.T) {
	for in, want := range map[string]string{
		`validating "arguments": validating root: validating /properties/limit: maximum: 101/1 is greater than 100.000000`:                                                                                                           "invalid argument limit: maximum: 101 is greater than 100; the tool's input schema lists the allowed values",
		`validating "arguments": validating root: validating /properties/lines: validating /properties/lines/items: validating /properties/lines/items/properties/quantity: exclusiveMinimum: 0/1 is less than or equal to 0.000000`: "invalid argument lines[].quantity: exclusiveMinimum: 0 is less than or equal to 0; the tool's input schema lists the allowed values",
		`validating "arguments": validating root: required: missing properties: ["invoice"]`:                                                                                                                                         `invalid arguments: required: missing properties: ["invoice"]; the tool's input schema lists the allowed values`,
		`invoice "x" not found`: `invoice "x" not found`,
	} {
		if got := explainSchemaError(in); got != want {
			t.Errorf("explainSchemaError(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/catalog/demo"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// teamView is what one connection sees of its own team.
type teamView struct {
	name     string
	prefix   string
	c        *connection
	invoice  struct{ ID, Number string }
	cursors  map[string]string // tool -> a next_cursor of it
	txCount  int
	missing  string // the answer to an invoice id that exists nowhere
	customer string
}

// TestCrossTeamMatrix calls every tool of each team's connection with the
// other team's ids and cursors: each answer is "not found", exactly like an
// id that does not exist, or holds only the caller's own team.
func TestCrossTeamMatrix(t *testing.T) {
	acme := view(t, "acme", "ACME-", as(alice, demo.Acme.Name))
	globex := view(t, "globex", "GLOBEX-", person{email: "bob@example.com", password: "bob-demo-password"})

	for _, pair := range [][2]*teamView{{acme, globex}, {globex, acme}} {
		me, other := pair[0], pair[1]
		t.Run(me.name+" with "+other.name+"'s ids", func(t *testing.T) {
			// get_invoice and create_transaction's invoice: not found, word
			// for word as for an id that exists nowhere.
			const nowhere = "99999999-9999-9999-9999-999999999999"
			for _, ref := range []string{other.invoice.ID, other.invoice.Number} {
				want := strings.ReplaceAll(me.missing, nowhere, ref)
				if got := toolError(t, me.c, "get_invoice", map[string]any{"invoice": ref}); got != want {
					t.Errorf("get_invoice(%s) = %q, want %q", ref, got, want)
				}
				got := toolError(t, me.c, "create_transaction", map[string]any{
					"description": "Payment", "counterparty": "x", "amount_cents": 100, "currency": "USD", "invoice": ref,
				})
				if !strings.HasPrefix(got, strings.TrimSuffix(want, "; list_invoices shows this team's invoices with their ids and numbers")) {
					t.Errorf("create_transaction(invoice %s) = %q, want %q", ref, got, want)
				}
			}
			// The refused payments recorded nothing.
			var txs struct {
				Totals []struct {
					Count int `json:"count"`
				} `json:"totals"`
			}
			callTool(t, me.c.session, "list_transactions", nil, &txs)
			if len(txs.Totals) != 1 || txs.Totals[0].Count != me.txCount {
				t.Errorf("transactions after refused payments: %+v, want %d", txs.Totals, me.txCount)
			}

			// The other team's cursors are positions only: the listings hold
			// the caller's team.
			for tool, cursor := range other.cursors {
				for _, n := range numbers(t, me.c, tool, map[string]any{"cursor": cursor}) {
					if !strings.HasPrefix(n, me.prefix) {
						t.Errorf("%s with %s's cursor lists %s", tool, other.name, n)
					}
				}
			}
			// A filter on the other team's customer finds nothing of theirs.
			for _, n := range numbers(t, me.c, "list_invoices", map[string]any{"customer": other.customer}) {
				if !strings.HasPrefix(n, me.prefix) {
					t.Errorf("list_invoices(customer %q) lists %s", other.customer, n)
				}
			}
			// A team argument is refused, not obeyed.
			if got := toolError(t, me.c, "list_invoices", map[string]any{"team_id": "x"}); !strings.Contains(got, "team_id") {
				t.Errorf("list_invoices with team_id: %q", got)
			}
			// Tools without ids work on the caller's team.
			var who whoami
			callTool(t, me.c.session, "whoami", nil, &who)
			var inv, tx struct {
				Number    string `json:"number"`
				Reference string `json:"reference"`
			}
			callTool(t, me.c.session, "create_invoice", map[string]any{
				"customer": other.customer, "currency": "EUR",
				"lines": []any{map[string]any{"description": "Audit", "quantity": 1, "unit_price_cents": 100}},
			}, &inv)
			callTool(t, me.c.session, "create_transaction", map[string]any{
				"description": "Refund", "counterparty": other.customer, "amount_cents": -100, "currency": "EUR",
			}, &tx)
			me.txCount++
			if !strings.HasPrefix(strings.ToUpper(who.Team.Slug)+"-", me.prefix) || !strings.HasPrefix(inv.Number, me.prefix) || !strings.HasPrefix(tx.Reference, me.prefix) {
				t.Errorf("own-team tools: whoami team %s, invoice %s, transaction %s; want %s", who.Team.Slug, inv.Number, tx.Reference, me.prefix)
			}
		})
	}
}

// view connects p with every scope and collects the team's ids.
func view(t *testing.T, name, prefix string, p person) *teamView {
	t.Helper()
	c, err := connectWith(t, fetcher(p), connectOptions{scopeFilter: askFor(catalog.Names()...)})
	if err != nil {
		t.Fatalf("connect %s: %v", name, err)
	}
	v := &teamView{name: name, prefix: prefix, c: c, cursors: map[string]string{}}
	var invoices struct {
		Invoices []struct {
			ID       string `json:"id"`
			Number   string `json:"number"`
			Customer string `json:"customer"`
		} `json:"invoices"`
		NextCursor string `json:"next_cursor"`
	}
	callTool(t, c.session, "list_invoices", map[string]any{"limit": 2}, &invoices)
	v.invoice.ID, v.invoice.Number, v.customer = invoices.Invoices[0].ID, invoices.Invoices[0].Number, invoices.Invoices[0].Customer
	v.cursors["list_invoices"] = invoices.NextCursor
	for _, tool := range []string{"list_estimates", "list_transactions"} {
		var page struct {
			NextCursor string `json:"next_cursor"`
			Totals     []struct {
				Count int `json:"count"`
			} `json:"totals"`
		}
		callTool(t, c.session, tool, map[string]any{"limit": 2}, &page)
		v.cursors[tool] = page.NextCursor
		if tool == "list_transactions" {
			v.txCount = page.Totals[0].Count
		}
	}
	for tool, cursor := range v.cursors {
		if cursor == "" {
			t.Fatalf("%s: %s gave no cursor", name, tool)
		}
	}
	v.missing = toolError(t, c, "get_invoice", map[string]any{"invoice": "99999999-9999-9999-9999-999999999999"})
	if !strings.Contains(v.missing, "not found") {
		t.Fatalf("%s: missing invoice answered %q", name, v.missing)
	}
	return v
}

// toolError calls a tool that must fail and returns its error text.
func toolError(t *testing.T, c *connection, name string, args map[string]any) string {
	t.Helper()
	res, err := c.session.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if !res.IsError {
		raw, _ := json.Marshal(res.StructuredContent)
		t.Fatalf("%s(%v) succeeded: %s", name, args, raw)
	}
	return res.Content[0].(*mcp.TextContent).Text
}

// numbers returns the numbers (invoices, estimates) and references
// (transactions) a listing tool returns; none is a fine answer here.
func numbers(t *testing.T, c *connection, tool string, args map[string]any) []string {
	t.Helper()
	var page struct {
		Invoices, Estimates []struct {
			Number string `json:"number"`
		}
		Transactions []struct {
			Reference     string `json:"reference"`
			InvoiceNumber string `json:"invoice_number"`
		}
	}
	callTool(t, c.session, tool, args, &page)
	var out []string
	for _, x := range append(page.Invoices, page.Estimates...) {
		out = append(out, x.Number)
	}
	for _, x := range page.Transactions {
		out = append(out, x.Reference)
		if x.InvoiceNumber != "" {
			out = append(out, x.InvoiceNumber)
		}
	}
	return out
}

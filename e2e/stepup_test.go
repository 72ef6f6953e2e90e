package e2e

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-oauth/catalog/demo"
)

// exchange is one MCP request as it went over the wire.
type exchange struct {
	status    int
	challenge string // WWW-Authenticate
}

// wireLog is an http.RoundTripper that records the MCP endpoint's answers.
type wireLog struct {
	mu  sync.Mutex
	log []exchange
}

func (w *wireLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		w.mu.Lock()
		w.log = append(w.log, exchange{resp.StatusCode, resp.Header.Get("WWW-Authenticate")})
		w.mu.Unlock()
	}
	return resp, err
}

func (w *wireLog) forbidden() []exchange {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []exchange
	for _, e := range w.log {
		if e.status == http.StatusForbidden {
			out = append(out, e)
		}
	}
	return out
}

// onlyScopes returns a ScopeFilter that keeps the suggested scopes among
// allowed: a client that asks for as little as it can.
func onlyScopes(allowed ...string) func([]string) []string {
	return func(suggested []string) []string {
		return slices.DeleteFunc(slices.Clone(suggested), func(s string) bool { return !slices.Contains(allowed, s) })
	}
}

// TestStepUp: a connection granted invoices:read only calls create_invoice.
// The MCP server answers 403 insufficient_scope; the go-sdk client goes
// through login and consent again, where the user sees and approves the
// added scope; the retried call succeeds.
func TestStepUp(t *testing.T) {
	var approvals []*approval
	wire := &wireLog{}
	c, err := connectWith(t, recordingFetcher(as(alice, demo.Acme.Name), &approvals), connectOptions{
		// The server suggests the baseline (invoices:read accounting:read);
		// this client takes invoices:read only, and later what a challenge
		// asks for among the invoice scopes.
		scopeFilter: onlyScopes("invoices:read", "invoices:write"),
		httpClient:  &http.Client{Transport: wire},
	})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var before whoami
	callTool(t, c.session, "whoami", nil, &before)
	if !slices.Equal(before.Scopes, []string{"invoices:read", "offline_access"}) {
		t.Fatalf("first grant = %q, want invoices:read (and offline_access)", before.Scopes)
	}

	var created struct {
		Number     string `json:"number"`
		TotalCents int64  `json:"total_cents"`
		Status     string `json:"status"`
	}
	callTool(t, c.session, "create_invoice", map[string]any{
		"customer": "Vandelay Imports", "currency": "USD",
		"lines": []any{map[string]any{"description": "Latex samples", "quantity": 3, "unit_price_cents": 2500}},
	}, &created)
	if !strings.HasPrefix(created.Number, "ACME-") || created.TotalCents != 7500 || created.Status != "draft" {
		t.Errorf("created %+v", created)
	}

	// On the wire: one 403 with the step-up challenge for exactly the
	// missing scope.
	forbidden := wire.forbidden()
	want := `Bearer error="insufficient_scope", scope="invoices:write", resource_metadata="` + prmURL() +
		`", error_description="this call needs the scope invoices:write, which the token was not granted; re-authorize asking for it"`
	if len(forbidden) != 1 || forbidden[0].challenge != want {
		t.Errorf("403 answers %+v, want one with\n%s", forbidden, want)
	} else {
		t.Logf("the step-up challenge on the wire:\nHTTP/1.1 403 Forbidden\nWWW-Authenticate: %s", forbidden[0].challenge)
	}

	// The user saw the consent page twice, the second time with the added
	// scope's label.
	const writeLabel = "Create and send invoices and estimates"
	if len(approvals) != 2 || strings.Contains(approvals[0].consentPage, writeLabel) || !strings.Contains(approvals[1].consentPage, writeLabel) {
		t.Errorf("%d consent pages; the write label on the first: %v, on the last: %v",
			len(approvals), len(approvals) > 0 && strings.Contains(approvals[0].consentPage, writeLabel),
			len(approvals) > 1 && strings.Contains(approvals[len(approvals)-1].consentPage, writeLabel))
	}

	// The new grant keeps what was granted before (the client asks for the
	// union) and adds the write scope; the approval is a new connection.
	var after whoami
	callTool(t, c.session, "whoami", nil, &after)
	if !slices.Contains(after.Scopes, "invoices:read") || !slices.Contains(after.Scopes, "invoices:write") ||
		after.ConnectionID == before.ConnectionID || after.Team.Slug != "acme" {
		t.Errorf("after step-up whoami = %+v", after)
	}
	var got struct {
		Number string `json:"number"`
	}
	callTool(t, c.session, "get_invoice", map[string]any{"invoice": created.Number}, &got)
	if got.Number != created.Number {
		t.Errorf("get_invoice of the new invoice = %+v", got)
	}
}

package gate

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

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
)

// linkIntrospector answers the tokens it holds and calls the others
// inactive.
type linkIntrospector map[string]*introspect.Result

func (f linkIntrospector) Introspect(_ context.Context, token string) (*introspect.Result, error) {
	if r, ok := f[token]; ok {
		return r, nil
	}
	return &introspect.Result{}, nil
}

func linkToken(conn, scope, stepUp string) *introspect.Result {
	ext := map[string]any{"team_id": teamID, "connection_id": conn, "team_slug": "acme"}
	if stepUp != "" {
		ext[contract.ClaimStepUp] = stepUp
	}
	return &introspect.Result{Active: true, TokenUse: "access_token", Audience: []string{resource}, Expiry: now.Add(time.Hour).Unix(),
		Subject: userID, ClientID: "https://claude.ai/oauth/claude-code-client-metadata", Scope: scope, Ext: ext}
}

func TestStepUpLink(t *testing.T) {
	const granted = "88888888-8888-8888-8888-888888888888"
	revokedAt := now.Add(-time.Minute)
	conns := fakeConnections{
		connID:    {ID: connID, UserID: userID, TeamID: teamID, TeamName: "Acme Corp", ClientID: "c", Scopes: []string{"invoices:read"}},
		granted:   {ID: granted, UserID: userID, TeamID: teamID, TeamName: "Acme Corp", ClientID: "c", Scopes: []string{"invoices:read", "invoices:write", "nonsense"}},
		revokedID: {ID: revokedID, UserID: userID, TeamID: teamID, ClientID: "c", Scopes: []string{"invoices:write"}, RevokedAt: &revokedAt},
	}
	intro := linkIntrospector{
		"tok_link":          linkToken(connID, "invoices:read offline_access", contract.StepUpByLink),
		"tok_plain":         linkToken(connID, "invoices:read offline_access", ""),
		"tok_other-mode":    linkToken(connID, "invoices:read", "popup"),
		"tok_granted":       linkToken(granted, "invoices:read offline_access", contract.StepUpByLink),
		"tok_granted-plain": linkToken(granted, "invoices:read", ""),
		"tok_revoked":       linkToken(revokedID, "invoices:read", contract.StepUpByLink),
	}
	var denied []string
	var rec recorder
	h := New(Options{
		Resource: resource, Introspector: intro, Connections: conns, Issuer: "http://auth.test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now },
		OnInsufficientScope: func(_ context.Context, id *Identity, tools []string) { denied = append(denied, id.ConnectionID) },
	})(&rec)
	call := func(token, body string) *httptest.ResponseRecorder {
		rec = recorder{}
		req := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}

	// With the claim: a tool error naming the permission, the team and the
	// link, for the request's id; the call is still audited as denied and
	// never reaches the tools.
	w := call("tok_link", `{"jsonrpc":"2.0","id":"req-7","method":"tools/call","params":{"name":"create_invoice","arguments":{}}}`)
	var res struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  struct {
			Content []struct{ Type, Text string }
			IsError bool `json:"isError"`
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || w.Code != http.StatusOK || rec.called || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("step-up link: HTTP %d, passed %v, %s (%v)", w.Code, rec.called, w.Body, err)
	}
	link := "http://auth.test/settings/connections/" + connID + "/grant?scope=invoices%3Awrite"
	if res.JSONRPC != "2.0" || string(res.ID) != `"req-7"` || !res.Result.IsError || len(res.Result.Content) != 1 || res.Result.Content[0].Type != "text" {
		t.Fatalf("step-up link result %s", w.Body)
	}
	text := res.Result.Content[0].Text
	for _, want := range []string{"“Create and send invoices and estimates”", "Acme Corp", link, "then try again"} {
		if !strings.Contains(text, want) {
			t.Errorf("step-up text lacks %q: %s", want, text)
		}
	}
	if !slices.Equal(denied, []string{connID}) {
		t.Errorf("audited denials %v", denied)
	}

	// Without the claim, with another value, or in a batch (no single id
	// to answer): the 403 challenge as for every client.
	for name, tc := range map[string]struct{ token, body string }{
		"no claim":     {"tok_plain", toolCall("create_invoice")},
		"other value":  {"tok_other-mode", toolCall("create_invoice")},
		"batch":        {"tok_link", "[" + toolCall("create_invoice") + "]"},
		"notification": {"tok_link", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"create_invoice"}}`},
	} {
		w := call(tc.token, tc.body)
		if w.Code != http.StatusForbidden || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), `Bearer error="insufficient_scope", scope="invoices:write"`) || rec.called {
			t.Errorf("%s: HTTP %d, %q, passed %v", name, w.Code, w.Header().Get("WWW-Authenticate"), rec.called)
		}
	}

	// Scopes granted to the connection count as the token's, for either
	// kind of client; outside the catalog they count for nothing.
	for _, tok := range []string{"tok_granted", "tok_granted-plain"} {
		w := call(tok, toolCall("create_invoice"))
		if w.Code != http.StatusOK || !rec.called || !rec.id.HasScope("invoices:write") || rec.id.HasScope("nonsense") {
			t.Fatalf("%s after the grant: HTTP %d, passed %v, %+v", tok, w.Code, rec.called, rec.id)
		}
	}
	// A revoked connection's grants open nothing.
	if w := call("tok_revoked", toolCall("create_invoice")); w.Code != http.StatusUnauthorized || rec.called {
		t.Errorf("revoked connection: HTTP %d, passed %v", w.Code, rec.called)
	}
}

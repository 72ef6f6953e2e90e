package gate

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/mcp-server/internal/introspect"
)

// The gate's hot paths, without the network or the database (fakes answer
// at once). scripts/bench prints these beside the whole-stack figures:
//
//	go test -run '^$' -bench . -benchmem ./internal/gate/

// answeringIntrospector is a warm cache: the same answer every time.
type answeringIntrospector struct{ res *introspect.Result }

func (a answeringIntrospector) Introspect(context.Context, string) (*introspect.Result, error) {
	return a.res, nil
}

// BenchmarkScopeCheck reads a tools/call body for the tool it calls and
// checks the token's scopes against the catalog: what the gate adds to
// every request once the token is verified.
func BenchmarkScopeCheck(b *testing.B) {
	body := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"list_invoices","arguments":{"limit":5}}}`)
	id := &Identity{Scopes: []string{"invoices:read", "accounting:read", "offline_access"}}
	w := httptest.NewRecorder()
	for b.Loop() {
		r := &http.Request{Method: http.MethodPost, Body: io.NopCloser(bytes.NewReader(body))}
		tools, status := calledTools(w, r)
		if _, missing := neededScopes(tools, id); status != 0 || len(tools) != 1 || len(missing) != 0 {
			b.Fatalf("tools %q, status %d, missing %q", tools, status, missing)
		}
	}
}

// BenchmarkChallenge builds the challenges a client gets: the step-up 403's
// WWW-Authenticate value, and the whole 401 answer to a request without a
// token (the first request of every new client).
func BenchmarkChallenge(b *testing.B) {
	b.Run("step-up", func(b *testing.B) {
		needed := []string{"invoices:read", "invoices:write"}
		for b.Loop() {
			if h := insufficientScopeChallenge(needed, metadataURL, "this call needs the scope invoices:write, which the token was not granted; re-authorize asking for it"); h == "" {
				b.Fatal("empty challenge")
			}
		}
	})
	b.Run("401", func(b *testing.B) {
		g := New(Options{Resource: resource, Logger: slog.New(slog.DiscardHandler)})(http.NotFoundHandler())
		r := httptest.NewRequest(http.MethodPost, resource, nil)
		for b.Loop() {
			w := httptest.NewRecorder()
			g.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized {
				b.Fatalf("HTTP %d", w.Code)
			}
		}
	})
}

// BenchmarkGate lets an authorized tools/call through the whole gate: host
// and origin checks, bearer parsing, a verification cache hit, the
// contract's token rules, the connection lookup (a map here; a database
// query in the server) and the scope check.
func BenchmarkGate(b *testing.B) {
	res := &introspect.Result{}
	raw := token(nil)
	res.Active, res.TokenUse, res.Audience = true, raw["token_use"].(string), raw["aud"].([]string)
	res.Expiry, res.Subject, res.ClientID, res.Scope = raw["exp"].(int64), raw["sub"].(string), raw["client_id"].(string), raw["scope"].(string)
	res.Ext = map[string]any{"team_id": teamID, "connection_id": connID}
	g := New(Options{
		Resource:     resource,
		Introspector: answeringIntrospector{res},
		Connections:  connections,
		Logger:       slog.New(slog.DiscardHandler),
		Now:          func() time.Time { return now },
	})
	passed := 0
	h := g(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { passed++ }))
	body := toolCall("list_invoices")
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer tok_good")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if passed == 0 {
		b.Fatal("the gate let nothing through")
	}
}

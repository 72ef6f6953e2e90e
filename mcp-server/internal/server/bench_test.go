package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog"
	conncache "github.com/mcp-oauth/mcp-server/internal/connections"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
	"github.com/mcp-oauth/mcp-server/internal/tools"
	"github.com/mcp-oauth/ops/pgtest"
)

// BenchmarkToolCall measures whole tool calls through the real handler on
// loopback — gate, MCP layer, tool, PostgreSQL (DATABASE_URL) — with the
// gate's connection lookup read from the database on every request
// ("connection-db") or from the connection cache kept fresh by LISTEN/NOTIFY
// ("connection-cached"). Introspection is answered by a warm cache in both,
// as in production between two refreshes. The difference is what the
// connection cache saves per request: one database round trip.
//
//	DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//	  go test -run '^$' -bench ToolCall -benchtime 3s ./internal/server/
func BenchmarkToolCall(b *testing.B) {
	db := storetest.Seeded(b)
	cached := conncache.New(db.Store, conncache.Options{TTL: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cached.Listen(ctx, func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, os.Getenv("DATABASE_URL")) },
		storetest.Discard, conncache.ListenOptions{})
	pgtest.Eventually(b, "the listener", cached.Listening)
	for _, tool := range []string{"whoami", "list_invoices"} {
		for _, bc := range []struct {
			name  string
			conns gate.Connections
		}{
			{"connection-db", db.Store},
			{"connection-cached", cached},
		} {
			b.Run(tool+"/"+bc.name, func(b *testing.B) {
				s := newStack(b, stackOptions{store: db.Store, connections: bc.conns})
				body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{}}}`
				call := func() {
					req, _ := http.NewRequest(http.MethodPost, s.resource, strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/json, text/event-stream")
					req.Header.Set("MCP-Protocol-Version", "2025-06-18")
					req.Header.Set("Authorization", "Bearer acme-reader")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					out, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK || strings.Contains(string(out), `"isError":true`) {
						b.Fatalf("%s: %d %s", tool, resp.StatusCode, out)
					}
				}
				call() // warm the introspection cache and the connection pool
				b.ResetTimer()
				for b.Loop() {
					call()
				}
			})
		}
	}
}

// pageStore answers list_invoices with a fixed page of five invoices, so the
// benchmarks measure the server without the database.
type pageStore struct {
	tools.Store // the other methods are not called
	page        store.InvoicePage
}

func (s pageStore) ListInvoices(context.Context, string, store.InvoiceQuery) (store.InvoicePage, error) {
	return s.page, nil
}

func newPageStore() pageStore {
	var p store.InvoicePage
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		p.Invoices = append(p.Invoices, store.Invoice{
			ID: fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", i), Number: fmt.Sprintf("ACME-2026-%04d", i+1),
			Customer: "Initech", TotalCents: 125_000, Currency: "EUR", Status: "sent", IssuedOn: day, DueOn: day.AddDate(0, 0, 30),
		})
	}
	return pageStore{page: p}
}

// benchHandler is the server's whole HTTP handler in front of pageStore,
// with gate as its gate.
func benchHandler(resource string, protect func(http.Handler) http.Handler) http.Handler {
	return Handler(Options{
		Resource: resource,
		Issuer:   issuer,
		Gate:     protect,
		MCP:      tools.NewServer(tools.Options{Store: newPageStore(), Logger: storetest.Discard, Version: "bench"}),
		Logger:   storetest.Discard,
	})
}

// serveCalls posts list_invoices to h b.N times and checks each answer.
func serveCalls(b *testing.B, h http.Handler, resource string) {
	const call = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","arguments":{"limit":5}}}`
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(call))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json, text/event-stream")
		r.Header.Set("MCP-Protocol-Version", "2025-06-18")
		r.Header.Set("Authorization", "Bearer acme-all")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "ACME-2026-0005") {
			b.Fatalf("HTTP %d: %.300s", w.Code, w.Body)
		}
	}
}

// BenchmarkToolDispatch is one tools/call through the server's handler with
// the gate replaced by a fixed identity: routing, the go-sdk's JSON-RPC
// decoding and schema validation, the tool, and the JSON answer. It is the
// in-process counterpart of scripts/bench's P1 with authorization off.
//
//	go test -run '^$' -bench . -benchmem ./internal/server/
func BenchmarkToolDispatch(b *testing.B) {
	const resource = "http://localhost:8080/mcp"
	id := &gate.Identity{UserID: storetest.AliceID, TeamID: storetest.AcmeID, ConnectionID: storetest.AcmeConnection, Scopes: catalog.Names()}
	fixed := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(gate.WithIdentity(r.Context(), id)))
		})
	}
	serveCalls(b, benchHandler(resource, fixed), resource)
}

// BenchmarkGatedCall is BenchmarkToolDispatch through the real gate, with a
// warm verification cache and the connections in memory: the CPU the gate
// adds, without the database round trip it makes in the server.
func BenchmarkGatedCall(b *testing.B) {
	const resource = "http://localhost:8080/mcp"
	answer := &introspect.Result{
		Active: true, TokenUse: "access_token", Audience: []string{resource}, Expiry: time.Now().Add(time.Hour).Unix(),
		Subject: storetest.AliceID, ClientID: "client-1", Scope: strings.Join(catalog.Names(), " "),
		Ext: map[string]any{"team_id": storetest.AcmeID, "connection_id": storetest.AcmeConnection},
	}
	protect := gate.New(gate.Options{
		Resource:     resource,
		Introspector: introspect.NewCache(fixedAnswer{answer}, introspect.CacheOptions{MaxTTL: time.Minute}),
		Connections:  connections{},
		Logger:       storetest.Discard,
	})
	serveCalls(b, benchHandler(resource, protect), resource)
}

type fixedAnswer struct{ res *introspect.Result }

func (f fixedAnswer) Introspect(context.Context, string) (*introspect.Result, error) {
	return f.res, nil
}

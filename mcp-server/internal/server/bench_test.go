package server

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	conncache "github.com/mcp-oauth/mcp-server/internal/connections"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
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
	for !cached.Listening() {
		time.Sleep(time.Millisecond)
	}
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

// Package pgtest gives a test a PostgreSQL schema of its own on the server
// named by DATABASE_URL, so that the services' store tests run side by side
// on one server without seeing each other's rows. Without DATABASE_URL the
// test fails, saying how to run it: a database test that skipped would let
// `go test ./...` pass without running any SQL. scripts/test always sets it
// (to a private cluster of its own when it is unset).
package pgtest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// MissingURL is the failure of a database test run without DATABASE_URL.
const MissingURL = `DATABASE_URL is not set: this test needs a PostgreSQL server. Run it with scripts/test
(which starts a private cluster), or give it one:
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres go test ./...
or have e2e/cmd/withpg start a throwaway cluster for the command (from the repository's root):
	go run ./e2e/cmd/withpg go test ./consent-app/... ./mcp-server/... ./ops/...`

// URL returns DATABASE_URL, and fails the test (MissingURL) when it is not
// set.
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal(MissingURL)
	}
	return url
}

// Schema creates the schema prefix_<random>, dropped when the test ends,
// and returns a pool whose connections have it first on their search path,
// with DATABASE_URL (which may carry a password) and the schema's name.
func Schema(t testing.TB, prefix string) (pool *pgxpool.Pool, databaseURL, schema string) {
	t.Helper()
	databaseURL = URL(t)
	ctx := context.Background()
	schema = prefix + "_" + strings.ToLower(rand.Text()[:10])
	admin, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, databaseURL, schema
}

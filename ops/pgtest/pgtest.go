// Package pgtest gives a test a PostgreSQL schema of its own on the server
// named by DATABASE_URL, so that the services' store tests run side by side
// on one server without seeing each other's rows. Without DATABASE_URL the
// test is skipped, so `go test ./...` needs no database; scripts/test always
// sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Schema creates the schema prefix_<random>, dropped when the test ends,
// and returns a pool whose connections have it first on their search path,
// with DATABASE_URL (which may carry a password) and the schema's name.
func Schema(t testing.TB, prefix string) (pool *pgxpool.Pool, databaseURL, schema string) {
	t.Helper()
	databaseURL = os.Getenv("DATABASE_URL")
	if databaseURL == "" {
		t.Skip("DATABASE_URL not set")
	}
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

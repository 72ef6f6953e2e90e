// Package storetest gives a test a database of its own on the PostgreSQL
// server named by DATABASE_URL: a fresh schema holding the consent app's
// real schema (its migrations, package consent-app/migrations), a user, two
// teams and a few connections, and this service's migrations. Without DATABASE_URL the test
// fails, saying how to run it (pgtest.URL); scripts/test always sets it.
package storetest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/consent-app/migrations"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/ops/pgtest"
)

// Fixed ids of the rows New inserts.
const (
	AcmeID   = "11111111-1111-1111-1111-111111111111" // team demo.Acme (acme, prefix ACME)
	GlobexID = "22222222-2222-2222-2222-222222222222" // team demo.Globex (globex, prefix GLOBEX)
	AliceID  = "77777777-7777-7777-7777-777777777777" // demo.Alice (alice@example.com)

	AcmeConnection    = "33333333-3333-3333-3333-333333333333" // alice in acme, live
	RevokedConnection = "44444444-4444-4444-4444-444444444444" // alice in acme, revoked
	GlobexConnection  = "55555555-5555-5555-5555-555555555555" // alice in globex, live
)

// demoRows are the demo data's Alice and teams (package demo), with her
// memberships and connections, in the consent app's real tables.
var demoRows = `
INSERT INTO users (id, email, password_hash, display_name) VALUES ('` + AliceID + `', '` + demo.Alice.Email + `', '', '` + demo.Alice.Name + `');
INSERT INTO teams VALUES ('` + AcmeID + `', '` + demo.Acme.Slug + `', '` + demo.Acme.Name + `', '` + demo.Acme.InvoicePrefix + `'),
                         ('` + GlobexID + `', '` + demo.Globex.Slug + `', '` + demo.Globex.Name + `', '` + demo.Globex.InvoicePrefix + `');
INSERT INTO memberships (team_id, user_id, role) VALUES ('` + AcmeID + `', '` + AliceID + `', 'owner'), ('` + GlobexID + `', '` + AliceID + `', 'member');
INSERT INTO connections (id, user_id, team_id, client_id, client_name, scopes) VALUES
  ('` + AcmeConnection + `', '` + AliceID + `', '` + AcmeID + `', 'client-1', 'client-1 app', '{}'),
  ('` + GlobexConnection + `', '` + AliceID + `', '` + GlobexID + `', 'client-1', 'client-1 app', '{}');
INSERT INTO connections (id, user_id, team_id, client_id, client_name, scopes, revoked_at) VALUES
  ('` + RevokedConnection + `', '` + AliceID + `', '` + AcmeID + `', 'client-1', 'client-1 app', '{}', now());
`

// DB is a test's database.
type DB struct {
	Store *store.Store
	// Pool connects as DATABASE_URL's user (a superuser in development and
	// CI), with the test's schema first on the search path.
	Pool *pgxpool.Pool
	// URL is DATABASE_URL; it may carry a password.
	URL string
	// Schema is the test's schema.
	Schema string
}

// New returns a migrated database without domain data.
func New(t testing.TB) *DB {
	t.Helper()
	pool, dsn, schema := pgtest.Schema(t, "mcp_store_test")
	ctx := context.Background()
	if err := migrations.Up(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, demoRows); err != nil {
		t.Fatal(err)
	}
	for range 2 { // migrating twice must be a no-op the second time
		if err := store.Migrate(ctx, pool, Discard); err != nil {
			t.Fatal(err)
		}
	}
	return &DB{Store: store.New(pool), Pool: pool, URL: dsn, Schema: schema}
}

// Seeded returns a migrated database with the demo data of both teams.
func Seeded(t testing.TB) *DB {
	t.Helper()
	db := New(t)
	if err := db.Store.SeedDemo(context.Background(), Discard); err != nil {
		t.Fatal(err)
	}
	return db
}

// Discard is a logger for tests that do not look at logs.
var Discard = slog.New(slog.DiscardHandler)

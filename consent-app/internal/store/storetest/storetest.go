// Package storetest gives a test a database of its own on the PostgreSQL
// server named by DATABASE_URL: a fresh schema with the consent app's
// migrations, the demo users and teams, and the MCP server's audit_events
// table that the consent app reads. Without DATABASE_URL the test fails,
// saying how to run it (pgtest.URL); scripts/test always sets it.
package storetest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/ops/pgtest"
)

// auditSchema is the MCP server's audit table as its migration 00003
// creates it: the consent app only reads it.
const auditSchema = `
CREATE TABLE audit_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL,
    user_id uuid NOT NULL, team_id uuid NOT NULL, client_id text NOT NULL, connection_id uuid NOT NULL,
    tool text NOT NULL, outcome text NOT NULL, duration_us bigint NOT NULL)`

// Discard is a logger for tests that do not look at logs.
var Discard = slog.New(slog.DiscardHandler)

// DB is a test's database.
type DB struct {
	Store *store.Store
	// Pool has the test's schema first on its search path.
	Pool *pgxpool.Pool
	// Schema is the test's schema.
	Schema string
	// Users and Teams map the demo data's emails and slugs to ids.
	Users, Teams map[string]string
}

// New returns a migrated database holding the demo users, teams and
// memberships (demo.Users; their password hashes are not real).
func New(t testing.TB) *DB {
	t.Helper()
	pool, _, schema := pgtest.Schema(t, "consent_store_test")
	ctx := context.Background()
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, auditSchema); err != nil {
		t.Fatal(err)
	}
	st := store.New(pool)
	if err := st.SeedDemo(ctx, func(pw string) (string, error) { return "not-a-hash:" + pw, nil }); err != nil {
		t.Fatal(err)
	}
	db := &DB{Store: st, Pool: pool, Schema: schema, Users: map[string]string{}, Teams: map[string]string{}}
	for _, q := range []struct {
		sql string
		m   map[string]string
	}{{"SELECT email, id::text FROM users", db.Users}, {"SELECT slug, id::text FROM teams", db.Teams}} {
		rows, err := pool.Query(ctx, q.sql)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				t.Fatal(err)
			}
			q.m[k] = v
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	return db
}

// Connect records a live connection of user (an email) into team (a slug)
// for client, as the token hook does at a code exchange, and returns its id.
func (db *DB) Connect(t testing.TB, email, slug, client string, scopes ...string) string {
	t.Helper()
	id := store.NewConnectionID()
	err := db.Store.RecordConnection(context.Background(), store.Connection{
		ID: id, UserID: db.Users[email], TeamID: db.Teams[slug], ClientID: client, ClientName: client + " app", Scopes: scopes,
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM connections WHERE id = $1`, id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("connection of %s into %s not recorded (%v): is the user a member?", email, slug, err)
	}
	return id
}

// Revoked reports whether the connection is revoked.
func (db *DB) Revoked(t testing.TB, id string) bool {
	t.Helper()
	var revoked bool
	if err := db.Pool.QueryRow(context.Background(), `SELECT revoked_at IS NOT NULL FROM connections WHERE id = $1`, id).Scan(&revoked); err != nil {
		t.Fatal(err)
	}
	return revoked
}

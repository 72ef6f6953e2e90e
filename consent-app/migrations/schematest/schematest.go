// Package schematest is the storage contract between the services: what the
// MCP server relies on in the tables the consent app owns (package
// migrations). Both services run Contract against the real schema, from a
// test of each: the consent app's so that a migration cannot break the MCP
// server unnoticed, the MCP server's so that its reads are tested against
// what production has.
package schematest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/catalog/contract"
)

// Column is one column the MCP server reads.
type Column struct {
	Table, Name, Type string
	NotNull           bool
}

// Columns are the columns the MCP server reads: the connection lookup
// (connections joined with teams, on every request whose connection is not
// cached), the whoami user and team, and the audit log's last-used update.
var Columns = []Column{
	{"connections", "id", "uuid", true},
	{"connections", "user_id", "uuid", true},
	{"connections", "team_id", "uuid", true},
	{"connections", "client_id", "text", true},
	{"connections", "scopes", "text[]", true},
	{"connections", "revoked_at", "timestamp with time zone", false},
	{"connections", "last_used_at", "timestamp with time zone", false},
	{"teams", "id", "uuid", true},
	{"teams", "slug", "text", true},
	{"teams", "name", "text", true},
	{"teams", "invoice_prefix", "text", true},
	{"users", "id", "uuid", true},
	{"users", "email", "text", true},
	{"users", "display_name", "text", true},
	{"memberships", "team_id", "uuid", true},
	{"memberships", "user_id", "uuid", true},
	{"memberships", "role", "text", true},
}

// ForeignKeys are the references the MCP server counts on: a connection's
// user and team exist, so the lookup's join finds the team.
var ForeignKeys = []string{
	"connections(team_id) -> teams(id)",
	"connections(user_id) -> users(id)",
	"memberships(team_id) -> teams(id)",
	"memberships(user_id) -> users(id)",
}

// Contract fails t unless the schema on pool's search path (first schema)
// has Columns and ForeignKeys, and revoking a connection, or ending the
// membership it was made under, notifies contract.ConnectionChanged with
// the connection's id on commit. It writes a user, a team, a membership and
// a connection of its own, and deletes them again.
func Contract(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()

	t.Run("columns", func(t *testing.T) {
		for _, c := range Columns {
			var typ string
			var notNull bool
			err := pool.QueryRow(ctx, `
				SELECT format_type(a.atttypid, a.atttypmod), a.attnotnull
				FROM pg_attribute a
				WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
				c.Table, c.Name).Scan(&typ, &notNull)
			if err != nil {
				t.Errorf("%s.%s: %v", c.Table, c.Name, err)
				continue
			}
			if typ != c.Type || notNull != c.NotNull {
				t.Errorf("%s.%s is %s (not null %v), the MCP server reads %s (not null %v)", c.Table, c.Name, typ, notNull, c.Type, c.NotNull)
			}
		}
	})

	t.Run("foreign keys", func(t *testing.T) {
		rows, err := pool.Query(ctx, `
			SELECT format('%s(%s) -> %s(%s)', c.conrelid::regclass, a.attname, c.confrelid::regclass, f.attname)
			FROM pg_constraint c
			JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
			JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1]
			WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
			  AND c.conrelid IN (to_regclass('connections'), to_regclass('memberships'))`)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range ForeignKeys {
			if !slices.Contains(got, want) {
				t.Errorf("no foreign key %s; the schema has %q", want, got)
			}
		}
	})

	t.Run("notify on revoke", func(t *testing.T) {
		user, team, conn := newID(t, pool), newID(t, pool), newID(t, pool)
		exec(t, pool, `INSERT INTO users (id, email, password_hash, display_name) VALUES ($1, $2, '', 'Contract')`, user, user+"@contract.test")
		exec(t, pool, `INSERT INTO teams (id, slug, name, invoice_prefix) VALUES ($1, $2, 'Contract', 'CT')`, team, "contract-"+team)
		exec(t, pool, `INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, $3)`, team, user, string(contract.RoleMember))
		insertConn := `INSERT INTO connections (id, user_id, team_id, client_id, client_name, scopes) VALUES ($1, $2, $3, 'contract-client', 'Contract', '{}')`
		exec(t, pool, insertConn, conn, user, team)
		t.Cleanup(func() {
			exec(t, pool, `DELETE FROM connections WHERE user_id = $1`, user)
			exec(t, pool, `DELETE FROM teams WHERE id = $1`, team)
			exec(t, pool, `DELETE FROM users WHERE id = $1`, user)
		})

		listener, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer listener.Release()
		if _, err := listener.Exec(ctx, "LISTEN "+pgx.Identifier{contract.ConnectionChanged}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		defer listener.Exec(ctx, "UNLISTEN *")

		exec(t, pool, `UPDATE connections SET revoked_at = now() WHERE id = $1`, conn)
		expectNotification(t, listener, conn, "revoking the connection")

		// A membership that ends revokes the member's live connections into
		// the team, which notifies too.
		second := newID(t, pool)
		exec(t, pool, insertConn, second, user, team)
		exec(t, pool, `DELETE FROM memberships WHERE team_id = $1 AND user_id = $2`, team, user)
		expectNotification(t, listener, second, "ending the membership")
		var revoked bool
		if err := pool.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM connections WHERE id = $1`, second).Scan(&revoked); err != nil || !revoked {
			t.Errorf("ending the membership left the connection live (%v)", err)
		}
	})
}

func expectNotification(t *testing.T, c *pgxpool.Conn, id, after string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := c.Conn().WaitForNotification(ctx)
	if err != nil {
		t.Fatalf("no notification on %q after %s: %v", contract.ConnectionChanged, after, err)
	}
	if n.Channel != contract.ConnectionChanged || n.Payload != id {
		t.Errorf("after %s: notification %q on %q, want %q on %q", after, n.Payload, n.Channel, id, contract.ConnectionChanged)
	}
}

func newID(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var id string
	if err := pool.QueryRow(context.Background(), `SELECT gen_random_uuid()::text`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func exec(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", strings.Join(strings.Fields(sql), " "), err))
	}
}

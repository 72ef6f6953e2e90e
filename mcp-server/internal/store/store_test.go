package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// consentSchema is the part of the consent app's schema this package reads,
// as the contracts define it.
const consentSchema = `
CREATE TABLE users (id uuid PRIMARY KEY, email text UNIQUE NOT NULL, password_hash text NOT NULL DEFAULT '',
                    display_name text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE teams (id uuid PRIMARY KEY, slug text UNIQUE NOT NULL, name text NOT NULL, invoice_prefix text NOT NULL);
CREATE TABLE connections (id uuid PRIMARY KEY, user_id uuid NOT NULL, team_id uuid NOT NULL, client_id text NOT NULL,
                          client_name text NOT NULL DEFAULT '', scopes text[] NOT NULL DEFAULT '{}',
                          created_at timestamptz NOT NULL DEFAULT now(), last_used_at timestamptz, revoked_at timestamptz);
INSERT INTO users (id, email, display_name) VALUES ('77777777-7777-7777-7777-777777777777', 'alice@example.com', 'Alice');
INSERT INTO teams VALUES ('11111111-1111-1111-1111-111111111111', 'acme', 'Acme Corp', 'ACME'),
                         ('22222222-2222-2222-2222-222222222222', 'globex', 'Globex', 'GLOBEX');
INSERT INTO connections (id, user_id, team_id, client_id) VALUES
  ('33333333-3333-3333-3333-333333333333', '77777777-7777-7777-7777-777777777777', '11111111-1111-1111-1111-111111111111', 'client-1');
INSERT INTO connections (id, user_id, team_id, client_id, revoked_at) VALUES
  ('44444444-4444-4444-4444-444444444444', '77777777-7777-7777-7777-777777777777', '11111111-1111-1111-1111-111111111111', 'client-1', now());
`

const (
	acmeID   = "11111111-1111-1111-1111-111111111111"
	globexID = "22222222-2222-2222-2222-222222222222"
)

// testStore returns a Store on a fresh schema of DATABASE_URL, with the
// consent app's tables and this package's migrations in place. Without
// DATABASE_URL the test is skipped, so `go test ./...` needs no
// database (scripts/test always sets DATABASE_URL).
func testStore(t *testing.T) (*Store, *pgxpool.Pool) {
	t.Helper()
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		t.Skip("DATABASE_URL not set")
	}
	ctx := context.Background()
	schema := "mcp_store_test_" + strings.ToLower(rand.Text()[:10])

	admin, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })

	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, consentSchema); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 { // migrating twice must be a no-op the second time
		if err := Migrate(ctx, pool, log); err != nil {
			t.Fatal(err)
		}
	}
	return New(pool), pool
}

func TestMigrateUsesOwnVersionTable(t *testing.T) {
	_, pool := testStore(t)
	var version int64
	if err := pool.QueryRow(context.Background(), "SELECT max(version_id) FROM "+VersionTable).Scan(&version); err != nil || version != 1 {
		t.Errorf("version in %s = %d (%v), want 1", VersionTable, version, err)
	}
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	st, pool := testStore(t)
	ctx := context.Background()
	// A third team that already has an invoice must be left alone.
	if _, err := pool.Exec(ctx, `
		INSERT INTO teams VALUES ('88888888-8888-8888-8888-888888888888', 'initech', 'Initech', 'INI');
		INSERT INTO invoices (team_id, number, customer, amount_cents, currency, status, issued_on, due_on)
		VALUES ('88888888-8888-8888-8888-888888888888', 'INI-1', 'Someone', 1, 'USD', 'draft', '2026-01-01', '2026-01-02')`); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 {
		if err := st.SeedDemo(ctx, log); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := pool.Query(ctx, `SELECT t.slug, string_agg(i.number, ',' ORDER BY i.number)
		FROM invoices i JOIN teams t ON t.id = i.team_id GROUP BY t.slug ORDER BY t.slug`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var slug, numbers string
		if err := rows.Scan(&slug, &numbers); err != nil {
			t.Fatal(err)
		}
		got[slug] = numbers
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"acme":    "ACME-2026-0001,ACME-2026-0002,ACME-2026-0003,ACME-2026-0004",
		"globex":  "GLOBEX-2026-0001,GLOBEX-2026-0002,GLOBEX-2026-0003",
		"initech": "INI-1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("invoices per team = %v, want %v", got, want)
	}
}

func TestListInvoicesPagesWithinOneTeam(t *testing.T) {
	st, _ := testStore(t)
	ctx := context.Background()
	if err := st.SeedDemo(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}

	var numbers []string
	cursor, pages := "", 0
	for {
		page, err := st.ListInvoices(ctx, acmeID, InvoiceQuery{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, inv := range page.Invoices {
			numbers = append(numbers, inv.Number)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if pages != 2 || len(numbers) != 4 {
		t.Fatalf("got %d pages with %q, want 2 pages with 4 invoices", pages, numbers)
	}
	for _, n := range numbers {
		if !strings.HasPrefix(n, "ACME-") {
			t.Errorf("acme listing contains %s", n)
		}
	}
	sorted := slices.Clone(numbers)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != 4 {
		t.Errorf("pages repeat invoices: %q", numbers)
	}

	// A cursor is only a position: on another team it still lists that team.
	page, err := st.ListInvoices(ctx, globexID, InvoiceQuery{Limit: 10, Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range page.Invoices {
		if !strings.HasPrefix(inv.Number, "GLOBEX-") {
			t.Errorf("globex listing contains %s", inv.Number)
		}
	}

	paid, err := st.ListInvoices(ctx, acmeID, InvoiceQuery{Status: "paid", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range paid.Invoices {
		if inv.Status != "paid" {
			t.Errorf("status filter returned %+v", inv)
		}
	}
	if len(paid.Invoices) == 0 || len(paid.Invoices) == 4 {
		t.Errorf("status filter returned %d of 4 invoices", len(paid.Invoices))
	}

	if _, err := st.ListInvoices(ctx, acmeID, InvoiceQuery{Limit: 10, Cursor: "not-a-cursor"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor: error %v, want ErrBadCursor", err)
	}
}

func TestConnectionLookup(t *testing.T) {
	st, _ := testStore(t)
	ctx := context.Background()
	c, err := st.Connection(ctx, "33333333-3333-3333-3333-333333333333")
	if err != nil || c.TeamID != acmeID || c.RevokedAt != nil || c.ClientID != "client-1" {
		t.Errorf("live connection = %+v, %v", c, err)
	}
	c, err = st.Connection(ctx, "44444444-4444-4444-4444-444444444444")
	if err != nil || c.RevokedAt == nil {
		t.Errorf("revoked connection = %+v, %v", c, err)
	}
	for _, id := range []string{"99999999-9999-9999-9999-999999999999", "not-a-uuid", ""} {
		if _, err := st.Connection(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Connection(%q) error = %v, want ErrNotFound", id, err)
		}
	}
	if u, err := st.User(ctx, "77777777-7777-7777-7777-777777777777"); err != nil || u.Email != "alice@example.com" {
		t.Errorf("User = %+v, %v", u, err)
	}
	if tm, err := st.Team(ctx, globexID); err != nil || tm.Slug != "globex" || tm.Name != "Globex" {
		t.Errorf("Team = %+v, %v", tm, err)
	}
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
)

const (
	acmeID   = storetest.AcmeID
	globexID = storetest.GlobexID
)

func TestMigrateUsesOwnVersionTable(t *testing.T) {
	db := storetest.New(t)
	var version int64
	if err := db.Pool.QueryRow(t.Context(), "SELECT max(version_id) FROM "+store.VersionTable).Scan(&version); err != nil || version != 3 {
		t.Errorf("version in %s = %d (%v), want 3", store.VersionTable, version, err)
	}
}

// counts returns, per team slug, how many rows of table it has and whether
// all of them carry the team's prefix in column.
func counts(t *testing.T, db *storetest.DB, table, column string) map[string]string {
	t.Helper()
	rows, err := db.Pool.Query(t.Context(), fmt.Sprintf(`
		SELECT tm.slug, count(*), bool_and(x.%[2]s LIKE tm.invoice_prefix || '-%%')
		FROM %[1]s x JOIN teams tm ON tm.id = x.team_id GROUP BY tm.slug ORDER BY tm.slug`, table, column))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var slug string
		var n int
		var prefixed bool
		if err := rows.Scan(&slug, &n, &prefixed); err != nil {
			t.Fatal(err)
		}
		got[slug] = fmt.Sprintf("%d prefixed=%v", n, prefixed)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	// A third team that already has an invoice keeps its invoices and gets
	// the rest.
	if _, err := db.Pool.Exec(ctx, `
		INSERT INTO teams VALUES ('88888888-8888-8888-8888-888888888888', 'initech', 'Initech', 'INI');
		INSERT INTO invoices (team_id, number, customer, amount_cents, currency, status, issued_on, due_on)
		VALUES ('88888888-8888-8888-8888-888888888888', 'INI-1', 'Someone', 1, 'USD', 'draft', '2026-01-01', '2026-01-02')`); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := db.Store.SeedDemo(ctx, storetest.Discard); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		table, column string
		want          map[string]string
	}{
		{"invoices", "number", map[string]string{"acme": "12 prefixed=true", "globex": "12 prefixed=true", "initech": "1 prefixed=true"}},
		{"estimates", "number", map[string]string{"acme": "5 prefixed=true", "globex": "5 prefixed=true", "initech": "5 prefixed=true"}},
		// 44 monthly expenses, plus a payment per paid invoice (6 of the
		// demo's 12; initech's one invoice is a draft).
		{"transactions", "reference", map[string]string{"acme": "50 prefixed=true", "globex": "50 prefixed=true", "initech": "44 prefixed=true"}},
	} {
		if got := counts(t, db, tc.table, tc.column); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s per team = %v, want %v", tc.table, got, tc.want)
		}
	}
	var lineless int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices i
		WHERE i.number <> 'INI-1' AND i.amount_cents <> (SELECT sum(amount_cents) FROM invoice_lines l WHERE l.invoice_id = i.id)`,
	).Scan(&lineless); err != nil || lineless != 0 {
		t.Errorf("%d seeded invoices whose total is not the sum of their lines (%v)", lineless, err)
	}
}

func TestListInvoicesPagesWithinOneTeam(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()

	var numbers []string
	cursor, pages := "", 0
	for {
		page, err := db.Store.ListInvoices(ctx, acmeID, store.InvoiceQuery{Limit: 5, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, inv := range page.Invoices {
			numbers = append(numbers, inv.Number)
			if inv.Lines != nil {
				t.Errorf("listing carries lines: %+v", inv)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if pages != 3 || len(numbers) != 12 {
		t.Fatalf("got %d pages with %q, want 3 pages with 12 invoices", pages, numbers)
	}
	want := slices.Clone(numbers)
	slices.Sort(want)
	slices.Reverse(want) // newest first, and the seed numbers in date order
	if !slices.Equal(numbers, want) || numbers[0] != "ACME-2026-0012" {
		t.Errorf("order = %q", numbers)
	}

	// A cursor is only a position: on another team it lists that team.
	page, err := db.Store.ListInvoices(ctx, globexID, store.InvoiceQuery{Limit: 100, Cursor: cursor})
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range page.Invoices {
		if !strings.HasPrefix(inv.Number, "GLOBEX-") {
			t.Errorf("globex listing contains %s", inv.Number)
		}
	}

	paid, err := db.Store.ListInvoices(ctx, acmeID, store.InvoiceQuery{Status: "paid", Limit: 100})
	if err != nil || len(paid.Invoices) != 6 {
		t.Errorf("paid invoices: %d, %v; want 6", len(paid.Invoices), err)
	}
	for _, inv := range paid.Invoices {
		if inv.Status != "paid" {
			t.Errorf("status filter returned %+v", inv)
		}
	}
	// The customer filter matches a part, ignores case and takes % literally.
	for query, want := range map[string]int{"initech": 1, "INITECH LLC": 1, "%": 0, "": 12} {
		got, err := db.Store.ListInvoices(ctx, acmeID, store.InvoiceQuery{Customer: query, Limit: 100})
		if err != nil || len(got.Invoices) != want {
			t.Errorf("customer %q: %d invoices (%v), want %d", query, len(got.Invoices), err, want)
		}
	}

	for _, bad := range []string{"not-a-cursor", cursorOf(t, db, "estimates")} {
		if _, err := db.Store.ListInvoices(ctx, acmeID, store.InvoiceQuery{Limit: 10, Cursor: bad}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursor %q: error %v, want ErrBadCursor", bad, err)
		}
	}
	if _, err := db.Store.ListInvoices(ctx, acmeID, store.InvoiceQuery{Limit: 0}); err == nil {
		t.Error("a zero page size was accepted")
	}
}

// cursorOf returns a valid cursor of another listing.
func cursorOf(t *testing.T, db *storetest.DB, listing string) string {
	t.Helper()
	var next string
	var err error
	switch listing {
	case "estimates":
		var p store.EstimatePage
		p, err = db.Store.ListEstimates(t.Context(), acmeID, store.EstimateQuery{Limit: 1})
		next = p.Next
	case "transactions":
		var p store.TransactionPage
		p, err = db.Store.ListTransactions(t.Context(), acmeID, store.TransactionQuery{Limit: 1})
		next = p.Next
	}
	if err != nil || next == "" {
		t.Fatalf("%s cursor: %q, %v", listing, next, err)
	}
	return next
}

func TestInvoiceByIDOrNumber(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()
	byNumber, err := db.Store.Invoice(ctx, acmeID, "ACME-2026-0003")
	if err != nil {
		t.Fatal(err)
	}
	byID, err := db.Store.Invoice(ctx, acmeID, byNumber.ID)
	if err != nil || byID.Number != "ACME-2026-0003" {
		t.Fatalf("by id: %+v, %v", byID, err)
	}
	var sum int64
	for _, l := range byID.Lines {
		sum += l.AmountCents
	}
	if len(byID.Lines) == 0 || sum != byID.TotalCents {
		t.Errorf("lines %+v do not add up to %d", byID.Lines, byID.TotalCents)
	}

	globex, err := db.Store.Invoice(ctx, globexID, "GLOBEX-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"GLOBEX-2026-0001", globex.ID, "ACME-2026-9999", "99999999-9999-9999-9999-999999999999", "", "'; DROP TABLE invoices; --"} {
		if _, err := db.Store.Invoice(ctx, acmeID, ref); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Invoice(acme, %q): %v, want ErrNotFound", ref, err)
		}
	}
}

func TestCreateInvoiceNumbersAndTotals(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()
	issued := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	inv, err := db.Store.CreateInvoice(ctx, acmeID, store.NewInvoice{
		Customer: "Initech LLC", Currency: "USD", Status: "draft", IssuedOn: issued, DueOn: issued.AddDate(0, 0, 14),
		Lines: []store.NewLine{
			{Description: "Consulting (hours)", QuantityMilli: 7_500, UnitPriceCents: 15_000},
			{Description: "Expenses", QuantityMilli: 1_000, UnitPriceCents: 3_333},
			{Description: "Rounding", QuantityMilli: 333, UnitPriceCents: 1_000},  // 333.0 cents
			{Description: "Rounding up", QuantityMilli: 1_500, UnitPriceCents: 1}, // 1.5 cents -> 2
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Number != "ACME-2026-0013" || inv.TotalCents != 112_500+3_333+333+2 || len(inv.Lines) != 4 || inv.Lines[0].Quantity != 7.5 {
		t.Errorf("created %+v", inv)
	}

	// Concurrent creates never share a number, and another year starts at 1.
	var wg sync.WaitGroup
	numbers := make([]string, 8)
	for i := range numbers {
		wg.Go(func() {
			inv, err := db.Store.CreateInvoice(ctx, acmeID, store.NewInvoice{
				Customer: "Hooli", Currency: "USD", Status: "sent", IssuedOn: issued.AddDate(1, 0, 0), DueOn: issued.AddDate(1, 1, 0),
				Lines: []store.NewLine{{Description: "Support", QuantityMilli: 1_000, UnitPriceCents: 100}},
			})
			if err != nil {
				t.Error(err)
			}
			numbers[i] = inv.Number
		})
	}
	wg.Wait()
	slices.Sort(numbers)
	want := []string{"ACME-2027-0001", "ACME-2027-0002", "ACME-2027-0003", "ACME-2027-0004", "ACME-2027-0005", "ACME-2027-0006", "ACME-2027-0007", "ACME-2027-0008"}
	if !slices.Equal(numbers, want) {
		t.Errorf("concurrent numbers = %q", numbers)
	}
}

func TestListEstimates(t *testing.T) {
	db := storetest.Seeded(t)
	page, err := db.Store.ListEstimates(t.Context(), globexID, store.EstimateQuery{Limit: 3})
	if err != nil || len(page.Estimates) != 3 || page.Next == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	rest, err := db.Store.ListEstimates(t.Context(), globexID, store.EstimateQuery{Limit: 3, Cursor: page.Next})
	if err != nil || len(rest.Estimates) != 2 || rest.Next != "" {
		t.Fatalf("second page: %+v, %v", rest, err)
	}
	for _, e := range append(page.Estimates, rest.Estimates...) {
		if !strings.HasPrefix(e.Number, "GLOBEX-EST-2026-") || e.Summary == "" {
			t.Errorf("estimate %+v", e)
		}
	}
	accepted, err := db.Store.ListEstimates(t.Context(), globexID, store.EstimateQuery{Status: "accepted", Limit: 10})
	if err != nil || len(accepted.Estimates) != 1 || accepted.Estimates[0].Status != "accepted" {
		t.Errorf("accepted: %+v, %v", accepted, err)
	}
}

func TestListTransactionsWithTotals(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()
	march := store.TransactionQuery{
		From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), Limit: 100,
	}
	page, err := db.Store.ListTransactions(ctx, acmeID, march)
	if err != nil {
		t.Fatal(err)
	}
	var in, out int64
	for _, tr := range page.Transactions {
		if tr.BookedOn.Month() != time.March || !strings.HasPrefix(tr.Reference, "ACME-TX-2026-") {
			t.Errorf("transaction %+v outside March or without the prefix", tr)
		}
		if tr.AmountCents > 0 {
			in += tr.AmountCents
		} else {
			out -= tr.AmountCents
		}
	}
	if len(page.Totals) != 1 || page.Totals[0] != (store.CurrencyTotal{Currency: "USD", InCents: in, OutCents: out, NetCents: in - out, Count: len(page.Transactions)}) {
		t.Errorf("totals %+v, want USD in %d out %d over %d", page.Totals, in, out, len(page.Transactions))
	}
	var payments int
	for _, tr := range page.Transactions {
		if tr.InvoiceNumber != "" {
			payments++
		}
	}
	if payments == 0 {
		t.Error("no payment linked to an invoice in March")
	}

	// Paging keeps the totals of the whole range.
	small := march
	small.Limit = 2
	first, err := db.Store.ListTransactions(ctx, acmeID, small)
	if err != nil || len(first.Transactions) != 2 || first.Next == "" || first.Totals[0].Count != len(page.Transactions) {
		t.Errorf("paged: %+v, %v", first, err)
	}
	if _, err := db.Store.ListTransactions(ctx, acmeID, store.TransactionQuery{Limit: 5, Cursor: cursorOf(t, db, "estimates")}); !errors.Is(err, store.ErrBadCursor) {
		t.Errorf("estimate cursor on transactions: %v", err)
	}
}

func TestCreateTransactionLinksOnlyOwnInvoices(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()
	day := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	tr, err := db.Store.CreateTransaction(ctx, acmeID, store.NewTransaction{
		BookedOn: day, Description: "Payment", Counterparty: "Wayne Logistics", AmountCents: 1000, Currency: "USD", Invoice: "ACME-2026-0011",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.Reference, "ACME-TX-2026-") || tr.InvoiceNumber != "ACME-2026-0011" || tr.ID == "" {
		t.Errorf("created %+v", tr)
	}
	globex, err := db.Store.Invoice(ctx, globexID, "GLOBEX-2026-0011")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"GLOBEX-2026-0011", globex.ID, "ACME-2099-0001"} {
		_, err := db.Store.CreateTransaction(ctx, acmeID, store.NewTransaction{
			BookedOn: day, Description: "Payment", Counterparty: "x", AmountCents: 1, Currency: "USD", Invoice: ref,
		})
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("link to %q: %v, want ErrNotFound", ref, err)
		}
	}
}

// TestRowLevelSecurity queries the tables without the application's team
// filter, inside the store's fence: PostgreSQL alone must keep the teams
// apart. The pool connects as a superuser, which row-level security never
// restricts, so the control query shows both teams' rows exist.
func TestRowLevelSecurity(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()
	tables := []string{"invoices", "invoice_lines", "estimates", "transactions", "number_sequences"}

	for _, table := range tables {
		var teams int
		if err := db.Pool.QueryRow(ctx, "SELECT count(DISTINCT team_id) FROM "+table).Scan(&teams); err != nil || teams != 2 {
			t.Fatalf("control: %s holds %d teams (%v), want 2", table, teams, err)
		}
		var forced bool
		if err := db.Pool.QueryRow(ctx, "SELECT relforcerowsecurity FROM pg_class WHERE oid = $1::regclass", table).Scan(&forced); err != nil || !forced {
			t.Errorf("%s: row-level security not forced (%v)", table, err)
		}
	}

	globex, err := db.Store.Invoice(ctx, globexID, "GLOBEX-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	err = db.Store.InTeam(ctx, acmeID, func(tx pgx.Tx) error {
		for _, table := range tables {
			var teams []string
			rows, err := tx.Query(ctx, "SELECT DISTINCT team_id::text FROM "+table)
			if err != nil {
				return err
			}
			if teams, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return err
			}
			if !slices.Equal(teams, []string{acmeID}) {
				t.Errorf("fenced to acme, %s shows teams %q", table, teams)
			}
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM invoices WHERE id = $1", globex.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("fenced to acme, globex's invoice by id: %d rows (%v)", n, err)
		}
		tag, err := tx.Exec(ctx, "UPDATE number_sequences SET last_value = last_value + 100 WHERE team_id = $1", globexID)
		if err != nil || tag.RowsAffected() != 0 {
			t.Errorf("fenced to acme, update of globex's sequences: %d rows (%v)", tag.RowsAffected(), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Writing another team's row fails outright.
	err = db.Store.InTeam(ctx, acmeID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO estimates (team_id, number, customer, summary, amount_cents, currency, status, issued_on, valid_until)
			VALUES ($1, 'GLOBEX-EST-X', 'x', 'x', 1, 'USD', 'draft', '2026-01-01', '2026-01-02')`, globexID)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("insert of a globex row while fenced to acme: %v, want a row-level security violation", err)
	}

	// The tenant role without a team sees nothing at all.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+store.TenantRole); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 0 {
			t.Errorf("tenant role without a team: %s shows %d rows (%v), want 0", table, n, err)
		}
	}
	// Nor may it read the consent app's tables.
	if _, err := tx.Exec(ctx, "SELECT 1 FROM connections LIMIT 1"); err == nil {
		t.Error("the tenant role can read connections")
	}
}

func TestConnectionLookup(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	if _, err := db.Pool.Exec(ctx, `UPDATE connections SET scopes = '{invoices:read,invoices:write}' WHERE id = $1`, storetest.AcmeConnection); err != nil {
		t.Fatal(err)
	}
	c, err := db.Store.Connection(ctx, storetest.AcmeConnection)
	if err != nil || c.TeamID != acmeID || c.TeamName != "Acme Corp" || c.RevokedAt != nil || c.ClientID != "client-1" ||
		!slices.Equal(c.Scopes, []string{"invoices:read", "invoices:write"}) {
		t.Errorf("live connection = %+v, %v", c, err)
	}
	c, err = db.Store.Connection(ctx, storetest.RevokedConnection)
	if err != nil || c.RevokedAt == nil {
		t.Errorf("revoked connection = %+v, %v", c, err)
	}
	for _, id := range []string{"99999999-9999-9999-9999-999999999999", "not-a-uuid", ""} {
		if _, err := db.Store.Connection(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Connection(%q) error = %v, want ErrNotFound", id, err)
		}
	}
	if u, err := db.Store.User(ctx, storetest.AliceID); err != nil || u.Email != "alice@example.com" {
		t.Errorf("User = %+v, %v", u, err)
	}
	if tm, err := db.Store.Team(ctx, globexID); err != nil || tm.Slug != "globex" || tm.Name != "Globex" {
		t.Errorf("Team = %+v, %v", tm, err)
	}
}

// A dead database is an error, not an empty result.
func TestUnreachableDatabaseIsAnError(t *testing.T) {
	db := storetest.New(t)
	db.Pool.Close()
	if _, err := db.Store.ListInvoices(context.Background(), acmeID, store.InvoiceQuery{Limit: 1}); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("closed pool: %v", err)
	}
}

// FORCE ROW LEVEL SECURITY: a deployment whose server connects as the
// tables' owner (not a superuser) is fenced even outside the store's tenant
// role.
func TestRowLevelSecurityBindsTheOwner(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()
	owner := "mcp_owner_" + strings.TrimPrefix(db.Schema, "mcp_store_test_")
	if _, err := db.Pool.Exec(ctx, "CREATE ROLE "+owner+" NOLOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Roles outlive the test's schema; give back what it owns first.
		if _, err := db.Pool.Exec(context.Background(), "REASSIGN OWNED BY "+owner+" TO CURRENT_USER; DROP OWNED BY "+owner+"; DROP ROLE "+owner); err != nil {
			t.Errorf("drop role %s: %v", owner, err)
		}
	})
	if _, err := db.Pool.Exec(ctx, "ALTER TABLE invoices OWNER TO "+owner+"; GRANT USAGE ON SCHEMA "+db.Schema+" TO "+owner); err != nil {
		t.Fatal(err)
	}
	count := func(team string) int {
		t.Helper()
		tx, err := db.Pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+owner); err != nil {
			t.Fatal(err)
		}
		if team != "" {
			if _, err := tx.Exec(ctx, "SELECT set_config('mcp_server.team_id', $1, true)", team); err != nil {
				t.Fatal(err)
			}
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM invoices").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(""); got != 0 {
		t.Errorf("the owner without a team sees %d invoices, want 0", got)
	}
	if got := count(acmeID); got != 12 {
		t.Errorf("the owner with acme set sees %d invoices, want acme's 12", got)
	}
}

// The fence holds for one transaction, entered as the transaction begins:
// inside it the tenant role and the team are set (and a read-only fence
// refuses writes); the pooled connection goes back with its own role and
// no team.
func TestFenceLastsOneTransaction(t *testing.T) {
	db := storetest.Seeded(t)
	ctx := t.Context()
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // every statement below runs on the same connection
	cfg.ConnConfig.RuntimeParams["search_path"] = db.Schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool)
	session := func(q interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}) (user, team string) {
		t.Helper()
		if err := q.QueryRow(ctx, `SELECT current_user, coalesce(current_setting($1, true), '')`, store.TeamSetting).Scan(&user, &team); err != nil {
			t.Fatal(err)
		}
		return user, team
	}
	owner, _ := session(pool)

	err = st.InTeamReadOnly(ctx, acmeID, func(tx pgx.Tx) error {
		if user, team := session(tx); user != store.TenantRole || team != acmeID {
			t.Errorf("inside the fence: user %q, team %q; want %q and acme", user, team, store.TenantRole)
		}
		_, err := tx.Exec(ctx, `UPDATE invoices SET customer = customer`)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "read-only transaction") {
		t.Errorf("write in a read-only fence: %v, want a read-only transaction error", err)
	}
	// A fence that commits (a rolled-back one undoes even session settings).
	if err := st.InTeam(ctx, globexID, func(pgx.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if user, team := session(pool); user != owner || team != "" {
		t.Errorf("after the fence: user %q, team %q; want %q and none", user, team, owner)
	}
}

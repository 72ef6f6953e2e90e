package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The demo data (docs/design.md, "Demo data"): for every team a year of invoices
// with line items, estimates, and the transactions of its account —
// payments of the paid invoices and the monthly expenses. It is generated
// from the pools below, offset by the team's position, so that teams get
// different customers and amounts; every number carries the team's prefix.

var demoCustomers = []string{
	"Initech LLC", "Umbrella Health GmbH", "Stark Industrial Supply", "Wayne Logistics",
	"Hooli Cloud Services", "Soylent Foods AG", "Vandelay Imports", "Cyberdyne Systems",
	"Tyrell Biotech", "Massive Dynamic", "Oscorp Labs", "Wonka Confections",
}

var demoServices = []struct {
	description    string
	unitPriceCents int64
}{
	{"Consulting (hours)", 15_000},
	{"Software development (hours)", 12_500},
	{"Project management (hours)", 11_000},
	{"Cloud hosting (month)", 45_000},
	{"Support plan (month)", 90_000},
	{"Training workshop (day)", 180_000},
	{"Rugged field tablet", 64_900},
	{"Data migration (fixed fee)", 350_000},
}

// demoQuantities are in thousandths (NewLine.QuantityMilli).
var demoQuantities = []int64{8_000, 12_500, 1_000, 3_000, 40_000, 2_000, 6_000}

// demoInvoices are the issue day (of the demo year) and status of each
// invoice: old ones mostly paid, recent ones sent, the last a draft.
var demoInvoices = []struct {
	day    int
	status string
}{
	{5, "paid"}, {30, "paid"}, {58, "paid"}, {85, "void"}, {110, "paid"}, {140, "overdue"},
	{170, "paid"}, {200, "paid"}, {228, "overdue"}, {258, "overdue"}, {305, "sent"}, {318, "draft"},
}

var demoEstimates = []struct {
	summary     string
	amountCents int64
	status      string
	day         int // of the demo year
}{
	{"Website redesign", 1_850_000, "accepted", 40},
	{"Annual support renewal", 1_080_000, "declined", 95},
	{"Warehouse tablet rollout", 2_596_000, "expired", 150},
	{"Cloud migration, phase 2", 4_200_000, "sent", 310},
	{"Onboarding workshop series", 720_000, "draft", 325},
}

var demoExpenses = []struct {
	description, counterparty string
	day                       int // of the month
	amountCents               int64
}{
	{"Office rent", "Landmark Properties Ltd", 1, -450_000},
	{"Cloud infrastructure", "Amazon Web Services", 3, -128_040},
	{"Software subscriptions", "GitHub, Inc.", 5, -23_900},
	{"Payroll", "Payroll run", 25, -2_800_000},
}

// demoYear is the year of the demo data; demoMonths its months with data.
const (
	demoYear   = 2026
	demoMonths = 11
)

func demoDay(dayOfYear int) time.Time {
	return time.Date(demoYear, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, dayOfYear)
}

// SeedDemo gives every team the demo data it lacks: invoices if it has none,
// estimates if it has none, transactions if it has none. Running it again
// changes nothing. Each team is seeded in its own fenced transaction, the
// way the tools write.
func (s *Store) SeedDemo(ctx context.Context, log *slog.Logger) error {
	rows, err := s.pool.Query(ctx, `SELECT id::text, slug, invoice_prefix FROM teams ORDER BY slug`)
	if err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42P01" {
			return fmt.Errorf("seed: %s; run the consent app's migrate and seed-demo first, then this service's migrate", pgErr.Message)
		}
		return fmt.Errorf("seed: list teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Team, error) {
		var t Team
		err := row.Scan(&t.ID, &t.Slug, &t.InvoicePrefix)
		return t, err
	})
	if err != nil {
		return fmt.Errorf("seed: list teams: %w", err)
	}
	for i, t := range teams {
		err := s.inTeam(ctx, t.ID, pgx.ReadWrite, func(tx pgx.Tx) error { return seedTeam(ctx, tx, i, t, log) })
		if err != nil {
			return fmt.Errorf("seed team %s: %w", t.Slug, err)
		}
	}
	log.InfoContext(ctx, "demo data ready", "teams", len(teams))
	return nil
}

func seedTeam(ctx context.Context, tx pgx.Tx, i int, t Team, log *slog.Logger) error {
	// Concurrent seeds of one team wait here instead of both inserting.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('mcp_server.seed'), hashtext($1))`, t.ID); err != nil {
		return err
	}
	var hasInvoices, hasEstimates, hasTransactions bool
	err := tx.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM invoices WHERE team_id = $1),
		EXISTS (SELECT 1 FROM estimates WHERE team_id = $1),
		EXISTS (SELECT 1 FROM transactions WHERE team_id = $1)`, t.ID,
	).Scan(&hasInvoices, &hasEstimates, &hasTransactions)
	if err != nil {
		return err
	}
	currency := []string{"USD", "EUR"}[i%2]
	if !hasInvoices {
		for k, d := range demoInvoices {
			issued := demoDay(d.day + i)
			inv := NewInvoice{
				Customer: demoCustomers[(i*5+k)%len(demoCustomers)],
				Currency: currency,
				Status:   d.status,
				IssuedOn: issued,
				DueOn:    issued.AddDate(0, 0, 30),
			}
			for j := range 1 + (k+i)%3 {
				svc := demoServices[(i*3+k+j*2)%len(demoServices)]
				inv.Lines = append(inv.Lines, NewLine{
					Description:    svc.description,
					QuantityMilli:  demoQuantities[(k+j+i)%len(demoQuantities)],
					UnitPriceCents: svc.unitPriceCents,
				})
			}
			if _, err := insertInvoice(ctx, tx, t.ID, t.InvoicePrefix, inv); err != nil {
				return err
			}
		}
		log.InfoContext(ctx, "seeded invoices", "team", t.Slug, "count", len(demoInvoices))
	}
	if !hasEstimates {
		for k, e := range demoEstimates {
			issued := demoDay(e.day + i)
			err := insertEstimate(ctx, tx, t.ID, t.InvoicePrefix, Estimate{
				Customer:    demoCustomers[(i*5+k+7)%len(demoCustomers)],
				Summary:     e.summary,
				AmountCents: e.amountCents + int64(i)*25_000,
				Currency:    currency,
				Status:      e.status,
				IssuedOn:    issued,
				ValidUntil:  issued.AddDate(0, 0, 30),
			})
			if err != nil {
				return err
			}
		}
		log.InfoContext(ctx, "seeded estimates", "team", t.Slug, "count", len(demoEstimates))
	}
	if !hasTransactions {
		n, err := seedTransactions(ctx, tx, t, currency)
		if err != nil {
			return err
		}
		log.InfoContext(ctx, "seeded transactions", "team", t.Slug, "count", n)
	}
	return nil
}

// seedTransactions books a payment for each paid invoice, 12 days after
// issue, and the monthly expenses, all in date order so that references
// ascend with dates.
func seedTransactions(ctx context.Context, tx pgx.Tx, t Team, currency string) (int, error) {
	type entry struct {
		NewTransaction
		invoiceID *string
	}
	var entries []entry
	rows, err := tx.Query(ctx, `SELECT id::text, number, customer, amount_cents, currency, status, issued_on, due_on
		FROM invoices WHERE team_id = $1 AND status = 'paid'`, t.ID)
	if err != nil {
		return 0, err
	}
	paid, err := pgx.CollectRows(rows, scanInvoice)
	if err != nil {
		return 0, err
	}
	for _, inv := range paid {
		entries = append(entries, entry{NewTransaction{
			BookedOn:     inv.IssuedOn.AddDate(0, 0, 12),
			Description:  "Payment for " + inv.Number,
			Counterparty: inv.Customer,
			AmountCents:  inv.TotalCents,
			Currency:     inv.Currency,
		}, &inv.ID})
	}
	for m := range demoMonths {
		for _, e := range demoExpenses {
			entries = append(entries, entry{NewTransaction: NewTransaction{
				BookedOn:     time.Date(demoYear, time.Month(m+1), e.day, 0, 0, 0, 0, time.UTC),
				Description:  e.description,
				Counterparty: e.counterparty,
				AmountCents:  e.amountCents,
				Currency:     currency,
			}})
		}
	}
	slices.SortStableFunc(entries, func(a, b entry) int { return a.BookedOn.Compare(b.BookedOn) })
	for _, e := range entries {
		if _, _, err := insertTransaction(ctx, tx, t.ID, t.InvoicePrefix, e.NewTransaction, e.invoiceID); err != nil {
			return 0, err
		}
	}
	return len(entries), nil
}

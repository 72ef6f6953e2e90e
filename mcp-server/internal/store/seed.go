package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// demoInvoice is one seeded invoice, dated relative to 2026-01-01 so the
// numbers' year matches.
type demoInvoice struct {
	customer    string
	amountCents int64
	currency    string
	status      string
	issuedDay   int // days after 2026-01-01
	termDays    int
}

// demoInvoices is the pool the seeded teams draw from; team i (by slug)
// starts at entry 4*i, so the demo teams get different customers.
var demoInvoices = []demoInvoice{
	{"Initech LLC", 1_250_000, "USD", "paid", 5, 30},
	{"Umbrella Health GmbH", 842_050, "EUR", "paid", 19, 30},
	{"Stark Industrial Supply", 2_399_900, "USD", "sent", 40, 30},
	{"Wayne Logistics", 415_000, "USD", "overdue", 12, 14},
	{"Hooli Cloud Services", 3_100_000, "USD", "paid", 8, 30},
	{"Soylent Foods AG", 129_990, "EUR", "sent", 33, 30},
	{"Vandelay Imports", 76_500, "USD", "draft", 47, 30},
	{"Cyberdyne Systems", 5_420_000, "USD", "sent", 52, 45},
}

// demoCount is how many invoices a team gets: DESIGN.md's demo data gives
// Acme four, everyone else three.
func demoCount(slug string) int {
	if slug == "acme" {
		return 4
	}
	return 3
}

// SeedDemo gives every team without invoices its demo invoices, numbered
// "<invoice_prefix>-2026-0001" onwards. Teams that already have invoices are
// left alone, so running it again changes nothing.
func (s *Store) SeedDemo(ctx context.Context, log *slog.Logger) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback(ctx)

	type team struct {
		id, slug, prefix string
		hasInvoices      bool
	}
	rows, err := tx.Query(ctx, `
		SELECT t.id::text, t.slug, t.invoice_prefix,
		       EXISTS (SELECT 1 FROM invoices i WHERE i.team_id = t.id)
		FROM teams t ORDER BY t.slug`)
	if err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42P01" {
			return fmt.Errorf("seed: %s; run the consent app's migrate and seed-demo first, then this service's migrate", pgErr.Message)
		}
		return fmt.Errorf("seed: list teams: %w", err)
	}
	teams, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (team, error) {
		var t team
		err := row.Scan(&t.id, &t.slug, &t.prefix, &t.hasInvoices)
		return t, err
	})
	if err != nil {
		return fmt.Errorf("seed: list teams: %w", err)
	}

	base := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	var batch pgx.Batch
	for i, t := range teams {
		if t.hasInvoices {
			continue
		}
		for k := range demoCount(t.slug) {
			d := demoInvoices[(4*i+k)%len(demoInvoices)]
			issued := base.AddDate(0, 0, d.issuedDay)
			// ON CONFLICT keeps a concurrent seed run from failing.
			batch.Queue(`
				INSERT INTO invoices (team_id, number, customer, amount_cents, currency, status, issued_on, due_on)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (team_id, number) DO NOTHING`,
				t.id, fmt.Sprintf("%s-2026-%04d", t.prefix, k+1), d.customer, d.amountCents, d.currency, d.status,
				issued, issued.AddDate(0, 0, d.termDays))
		}
		log.InfoContext(ctx, "seeding invoices", "team", t.slug, "count", demoCount(t.slug))
	}
	if batch.Len() > 0 {
		if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
			return fmt.Errorf("seed: insert invoices: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	log.InfoContext(ctx, "demo invoices ready", "teams", len(teams))
	return nil
}

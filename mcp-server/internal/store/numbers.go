package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Kinds of numbered documents, as in number_sequences.kind.
const (
	kindInvoice     = "invoice"
	kindEstimate    = "estimate"
	kindTransaction = "transaction"
)

// nextNumber hands out the team's next number of kind for year, formatted
// with the team's prefix: ACME-2026-0001, ACME-EST-2026-0001,
// ACME-TX-2026-0001. The upsert serialises concurrent creates on the
// sequence row, so two never get the same number.
func nextNumber(ctx context.Context, tx pgx.Tx, teamID, prefix, kind string, year int) (string, error) {
	var n int
	err := tx.QueryRow(ctx, `
		INSERT INTO number_sequences AS s (team_id, kind, year, last_value) VALUES ($1, $2, $3, 1)
		ON CONFLICT (team_id, kind, year) DO UPDATE SET last_value = s.last_value + 1
		RETURNING last_value`, teamID, kind, year).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("next %s number: %w", kind, err)
	}
	infix := map[string]string{kindInvoice: "", kindEstimate: "EST-", kindTransaction: "TX-"}[kind]
	return fmt.Sprintf("%s-%s%d-%04d", prefix, infix, year, n), nil
}

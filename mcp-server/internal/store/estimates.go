package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EstimateStatuses are the values the estimates.status column allows.
var EstimateStatuses = []string{"draft", "sent", "accepted", "declined", "expired"}

// Estimate is a row of the estimates table: a quote sent before work starts.
type Estimate struct {
	ID          string
	Number      string
	Customer    string
	Summary     string
	AmountCents int64
	Currency    string
	Status      string
	IssuedOn    time.Time
	ValidUntil  time.Time
}

// EstimateQuery selects a page of a team's estimates, newest first.
type EstimateQuery struct {
	Status string // "" for all
	Limit  int    // 1..MaxPageSize
	Cursor string // Next of the previous page, or ""
}

// EstimatePage is one page of estimates. Next is "" on the last page.
type EstimatePage struct {
	Estimates []Estimate
	Next      string
}

// ListEstimates returns a page of teamID's estimates.
func (s *Store) ListEstimates(ctx context.Context, teamID string, q EstimateQuery) (EstimatePage, error) {
	afterDate, afterKey, err := pageStart(kindEstimate, q.Limit, q.Cursor)
	if err != nil {
		return EstimatePage{}, err
	}
	var page EstimatePage
	err = s.inTeam(ctx, teamID, pgx.ReadOnly, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT id::text, number, customer, summary, amount_cents, currency, status, issued_on, valid_until
			FROM estimates
			WHERE team_id = $1
			  AND ($2 = '' OR status = $2)
			  AND ($4::date IS NULL OR (issued_on, number) < ($4::date, $5::text))
			ORDER BY issued_on DESC, number DESC
			LIMIT $3`,
			teamID, q.Status, q.Limit+1, afterDate, afterKey)
		if err != nil {
			return err
		}
		page.Estimates, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Estimate, error) {
			var e Estimate
			err := row.Scan(&e.ID, &e.Number, &e.Customer, &e.Summary, &e.AmountCents, &e.Currency, &e.Status, &e.IssuedOn, &e.ValidUntil)
			return e, err
		})
		return err
	})
	if err != nil {
		return EstimatePage{}, fmt.Errorf("list estimates: %w", err)
	}
	page.Estimates, page.Next = pageEnd(kindEstimate, page.Estimates, q.Limit, func(e Estimate) (time.Time, string) { return e.IssuedOn, e.Number })
	return page, nil
}

// insertEstimate adds an estimate under the team's next estimate number.
func insertEstimate(ctx context.Context, tx pgx.Tx, teamID, prefix string, e Estimate) error {
	number, err := nextNumber(ctx, tx, teamID, prefix, kindEstimate, e.IssuedOn.Year())
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO estimates (team_id, number, customer, summary, amount_cents, currency, status, issued_on, valid_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		teamID, number, e.Customer, e.Summary, e.AmountCents, e.Currency, e.Status, e.IssuedOn, e.ValidUntil)
	if err != nil {
		return fmt.Errorf("insert estimate: %w", err)
	}
	return nil
}

package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InvoiceStatuses are the values the invoices.status column allows (the
// migration's CHECK constraint lists the same).
var InvoiceStatuses = []string{"draft", "sent", "paid", "overdue", "void"}

// Invoice is a row of the invoices table.
type Invoice struct {
	ID          string
	Number      string
	Customer    string
	AmountCents int64
	Currency    string
	Status      string
	IssuedOn    time.Time
	DueOn       time.Time
}

// InvoiceQuery selects a page of a team's invoices, newest first.
type InvoiceQuery struct {
	// Status filters by status when non-empty.
	Status string
	// Limit is the page size; the caller bounds it.
	Limit int
	// Cursor is the Next value of the previous page, or "".
	Cursor string
}

// InvoicePage is one page of invoices. Next is "" on the last page.
type InvoicePage struct {
	Invoices []Invoice
	Next     string
}

// ErrBadCursor is returned for a cursor this server did not produce.
var ErrBadCursor = errors.New("invalid cursor")

// cursor is the keyset position after the last invoice of a page. Invoices
// are ordered by (issued_on, number) descending, which is unique per team.
type cursor struct {
	IssuedOn string `json:"i"`
	Number   string `json:"n"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Number == "" {
		return c, ErrBadCursor
	}
	if _, err := time.Parse(time.DateOnly, c.IssuedOn); err != nil {
		return c, ErrBadCursor
	}
	return c, nil
}

// ListInvoices returns a page of teamID's invoices. The cursor is only a
// position: the team filter comes from the caller, never from the cursor.
func (s *Store) ListInvoices(ctx context.Context, teamID string, q InvoiceQuery) (InvoicePage, error) {
	tid, err := parseUUID(teamID)
	if err != nil {
		return InvoicePage{}, err
	}
	if q.Limit < 1 {
		return InvoicePage{}, fmt.Errorf("list invoices: limit %d < 1", q.Limit)
	}
	var after *cursor
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return InvoicePage{}, err
		}
		after = &c
	}
	// $4 and $5 are NULL on the first page; one extra row tells whether a
	// next page exists.
	var afterIssued, afterNumber *string
	if after != nil {
		afterIssued, afterNumber = &after.IssuedOn, &after.Number
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id::text, number, customer, amount_cents, currency, status, issued_on, due_on
		FROM invoices
		WHERE team_id = $1
		  AND ($2 = '' OR status = $2)
		  AND ($4::date IS NULL OR (issued_on, number) < ($4::date, $5::text))
		ORDER BY issued_on DESC, number DESC
		LIMIT $3`,
		tid, q.Status, q.Limit+1, afterIssued, afterNumber)
	if err != nil {
		return InvoicePage{}, fmt.Errorf("list invoices: %w", err)
	}
	invoices, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Invoice, error) {
		var inv Invoice
		err := row.Scan(&inv.ID, &inv.Number, &inv.Customer, &inv.AmountCents, &inv.Currency, &inv.Status, &inv.IssuedOn, &inv.DueOn)
		return inv, err
	})
	if err != nil {
		return InvoicePage{}, fmt.Errorf("list invoices: %w", err)
	}
	page := InvoicePage{Invoices: invoices}
	if len(invoices) > q.Limit {
		page.Invoices = invoices[:q.Limit]
		last := page.Invoices[q.Limit-1]
		page.Next = cursor{IssuedOn: last.IssuedOn.Format(time.DateOnly), Number: last.Number}.encode()
	}
	return page, nil
}

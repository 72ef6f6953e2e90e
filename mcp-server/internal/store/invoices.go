package store

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// InvoiceStatuses are the values the invoices.status column allows (the
// migration's CHECK constraint lists the same).
var InvoiceStatuses = []string{"draft", "sent", "paid", "overdue", "void"}

// Invoice is a row of the invoices table.
type Invoice struct {
	ID         string
	Number     string
	Customer   string
	TotalCents int64
	Currency   string
	Status     string
	IssuedOn   time.Time
	DueOn      time.Time
	// Lines is filled by Invoice and CreateInvoice, not by ListInvoices.
	Lines []InvoiceLine
}

// InvoiceLine is one billed item.
type InvoiceLine struct {
	Description    string
	Quantity       float64
	UnitPriceCents int64
	AmountCents    int64
}

// InvoiceQuery selects a page of a team's invoices, newest first.
type InvoiceQuery struct {
	// Status filters by status when non-empty.
	Status string
	// Customer filters by a case-insensitive part of the customer's name
	// when non-empty.
	Customer string
	// Limit is the page size, 1..MaxPageSize.
	Limit int
	// Cursor is the Next value of the previous page, or "".
	Cursor string
}

// InvoicePage is one page of invoices. Next is "" on the last page.
type InvoicePage struct {
	Invoices []Invoice
	Next     string
}

// ListInvoices returns a page of teamID's invoices, without their lines.
func (s *Store) ListInvoices(ctx context.Context, teamID string, q InvoiceQuery) (InvoicePage, error) {
	afterDate, afterKey, err := pageStart(kindInvoice, q.Limit, q.Cursor)
	if err != nil {
		return InvoicePage{}, err
	}
	customer := ""
	if q.Customer != "" {
		customer = containsPattern(q.Customer)
	}
	var page InvoicePage
	err = s.inTeam(ctx, teamID, pgx.ReadOnly, func(tx pgx.Tx) error {
		// One extra row tells whether a next page exists.
		rows, err := tx.Query(ctx, `
			SELECT id::text, number, customer, amount_cents, currency, status, issued_on, due_on
			FROM invoices
			WHERE team_id = $1
			  AND ($2 = '' OR status = $2)
			  AND ($3 = '' OR customer ILIKE $3)
			  AND ($5::date IS NULL OR (issued_on, number) < ($5::date, $6::text))
			ORDER BY issued_on DESC, number DESC
			LIMIT $4`,
			teamID, q.Status, customer, q.Limit+1, afterDate, afterKey)
		if err != nil {
			return err
		}
		page.Invoices, err = pgx.CollectRows(rows, scanInvoice)
		return err
	})
	if err != nil {
		return InvoicePage{}, fmt.Errorf("list invoices: %w", err)
	}
	page.Invoices, page.Next = pageEnd(kindInvoice, page.Invoices, q.Limit, func(inv Invoice) (time.Time, string) { return inv.IssuedOn, inv.Number })
	return page, nil
}

// Invoice returns teamID's invoice with its lines. ref is the invoice's id
// or its number. Another team's invoice is ErrNotFound, like a missing one.
func (s *Store) Invoice(ctx context.Context, teamID, ref string) (Invoice, error) {
	var inv Invoice
	err := s.inTeam(ctx, teamID, pgx.ReadOnly, func(tx pgx.Tx) error {
		var err error
		if inv, err = invoiceByRef(ctx, tx, teamID, ref); err != nil {
			return err
		}
		inv.Lines, err = invoiceLines(ctx, tx, teamID, inv.ID)
		return err
	})
	if err != nil {
		return Invoice{}, fmt.Errorf("get invoice: %w", err)
	}
	return inv, nil
}

// NewInvoice is an invoice to create. The caller validates it; the database
// constraints are the last line of defence.
type NewInvoice struct {
	Customer string
	Currency string
	Status   string
	IssuedOn time.Time
	DueOn    time.Time
	Lines    []NewLine
}

// NewLine is a line of a NewInvoice. Quantities are in thousandths, so that
// 7.5 hours is 7500 and amounts are exact.
type NewLine struct {
	Description    string
	QuantityMilli  int64
	UnitPriceCents int64
}

// LineAmount is quantity × unit price in cents, rounded half up to a cent.
// The caller bounds both factors so that the product fits in an int64.
func LineAmount(quantityMilli, unitPriceCents int64) int64 {
	return (quantityMilli*unitPriceCents + 500) / 1000
}

// CreateInvoice creates an invoice for teamID under the team's next invoice
// number and returns it with its lines.
func (s *Store) CreateInvoice(ctx context.Context, teamID string, n NewInvoice) (Invoice, error) {
	team, err := s.Team(ctx, teamID)
	if err != nil {
		return Invoice{}, fmt.Errorf("create invoice: %w", err)
	}
	var inv Invoice
	err = s.inTeam(ctx, teamID, pgx.ReadWrite, func(tx pgx.Tx) error {
		id, err := insertInvoice(ctx, tx, teamID, team.InvoicePrefix, n)
		if err != nil {
			return err
		}
		if inv, err = invoiceByRef(ctx, tx, teamID, id); err != nil {
			return err
		}
		inv.Lines, err = invoiceLines(ctx, tx, teamID, id)
		return err
	})
	if err != nil {
		return Invoice{}, fmt.Errorf("create invoice: %w", err)
	}
	return inv, nil
}

// insertInvoice inserts n with its lines and returns the new invoice's id.
func insertInvoice(ctx context.Context, tx pgx.Tx, teamID, prefix string, n NewInvoice) (string, error) {
	number, err := nextNumber(ctx, tx, teamID, prefix, kindInvoice, n.IssuedOn.Year())
	if err != nil {
		return "", err
	}
	var total int64
	for _, l := range n.Lines {
		total += LineAmount(l.QuantityMilli, l.UnitPriceCents)
	}
	var id string
	err = tx.QueryRow(ctx, `
		INSERT INTO invoices (team_id, number, customer, amount_cents, currency, status, issued_on, due_on)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id::text`,
		teamID, number, n.Customer, total, n.Currency, n.Status, n.IssuedOn, n.DueOn).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("insert invoice: %w", err)
	}
	var batch pgx.Batch
	for i, l := range n.Lines {
		batch.Queue(`
			INSERT INTO invoice_lines (team_id, invoice_id, position, description, quantity, unit_price_cents, amount_cents)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			teamID, id, i+1, l.Description, pgtype.Numeric{Int: big.NewInt(l.QuantityMilli), Exp: -3, Valid: true},
			l.UnitPriceCents, LineAmount(l.QuantityMilli, l.UnitPriceCents))
	}
	if err := tx.SendBatch(ctx, &batch).Close(); err != nil {
		return "", fmt.Errorf("insert invoice lines: %w", err)
	}
	return id, nil
}

// invoiceByRef finds an invoice by id or number.
func invoiceByRef(ctx context.Context, tx pgx.Tx, teamID, ref string) (Invoice, error) {
	match := "number = $2"
	if _, err := parseUUID(ref); err == nil {
		match = "id = $2::uuid"
	}
	rows, err := tx.Query(ctx, `
		SELECT id::text, number, customer, amount_cents, currency, status, issued_on, due_on
		FROM invoices WHERE team_id = $1 AND `+match, teamID, ref)
	if err != nil {
		return Invoice{}, err
	}
	inv, err := pgx.CollectExactlyOneRow(rows, scanInvoice)
	if errors.Is(err, pgx.ErrNoRows) {
		return Invoice{}, fmt.Errorf("invoice %q: %w", ref, ErrNotFound)
	}
	return inv, err
}

func invoiceLines(ctx context.Context, tx pgx.Tx, teamID, invoiceID string) ([]InvoiceLine, error) {
	rows, err := tx.Query(ctx, `
		SELECT description, quantity, unit_price_cents, amount_cents
		FROM invoice_lines WHERE team_id = $1 AND invoice_id = $2
		ORDER BY position`, teamID, invoiceID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (InvoiceLine, error) {
		var l InvoiceLine
		err := row.Scan(&l.Description, &l.Quantity, &l.UnitPriceCents, &l.AmountCents)
		return l, err
	})
}

func scanInvoice(row pgx.CollectableRow) (Invoice, error) {
	var inv Invoice
	err := row.Scan(&inv.ID, &inv.Number, &inv.Customer, &inv.TotalCents, &inv.Currency, &inv.Status, &inv.IssuedOn, &inv.DueOn)
	return inv, err
}

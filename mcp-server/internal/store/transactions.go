package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Transaction is a row of the transactions table: money in (positive
// amount) or out (negative) of the team's account.
type Transaction struct {
	ID           string
	Reference    string
	BookedOn     time.Time
	Description  string
	Counterparty string
	AmountCents  int64
	Currency     string
	// InvoiceNumber is the invoice a payment settles, or "".
	InvoiceNumber string
}

// TransactionQuery selects a page of a team's transactions, newest first.
type TransactionQuery struct {
	// From and To bound the booking date, inclusive; zero means open.
	From, To time.Time
	Limit    int    // 1..MaxPageSize
	Cursor   string // Next of the previous page, or ""
}

// CurrencyTotal sums the transactions of one currency.
type CurrencyTotal struct {
	Currency string
	InCents  int64 // sum of the positive amounts
	OutCents int64 // sum of the negative amounts, as a positive number
	NetCents int64 // InCents - OutCents
	Count    int
}

// TransactionPage is one page of transactions, with the totals of every
// transaction the query selects (not only this page's). Next is "" on the
// last page.
type TransactionPage struct {
	Transactions []Transaction
	Totals       []CurrencyTotal
	Next         string
}

// ListTransactions returns a page of teamID's transactions and the totals
// of the selected date range.
func (s *Store) ListTransactions(ctx context.Context, teamID string, q TransactionQuery) (TransactionPage, error) {
	afterDate, afterKey, err := pageStart(kindTransaction, q.Limit, q.Cursor)
	if err != nil {
		return TransactionPage{}, err
	}
	from, to := optionalDate(q.From), optionalDate(q.To)
	var page TransactionPage
	err = s.inTeam(ctx, teamID, pgx.ReadOnly, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			SELECT t.id::text, t.reference, t.booked_on, t.description, t.counterparty, t.amount_cents, t.currency,
			       coalesce(i.number, '')
			FROM transactions t
			LEFT JOIN invoices i ON i.id = t.invoice_id AND i.team_id = t.team_id
			WHERE t.team_id = $1
			  AND ($2::date IS NULL OR t.booked_on >= $2::date)
			  AND ($3::date IS NULL OR t.booked_on <= $3::date)
			  AND ($5::date IS NULL OR (t.booked_on, t.reference) < ($5::date, $6::text))
			ORDER BY t.booked_on DESC, t.reference DESC
			LIMIT $4`,
			teamID, from, to, q.Limit+1, afterDate, afterKey)
		if err != nil {
			return err
		}
		page.Transactions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Transaction, error) {
			var t Transaction
			err := row.Scan(&t.ID, &t.Reference, &t.BookedOn, &t.Description, &t.Counterparty, &t.AmountCents, &t.Currency, &t.InvoiceNumber)
			return t, err
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			SELECT currency,
			       coalesce(sum(amount_cents) FILTER (WHERE amount_cents > 0), 0),
			       coalesce(-sum(amount_cents) FILTER (WHERE amount_cents < 0), 0),
			       count(*)
			FROM transactions
			WHERE team_id = $1
			  AND ($2::date IS NULL OR booked_on >= $2::date)
			  AND ($3::date IS NULL OR booked_on <= $3::date)
			GROUP BY currency ORDER BY currency`,
			teamID, from, to)
		if err != nil {
			return err
		}
		page.Totals, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (CurrencyTotal, error) {
			var c CurrencyTotal
			err := row.Scan(&c.Currency, &c.InCents, &c.OutCents, &c.Count)
			c.NetCents = c.InCents - c.OutCents
			return c, err
		})
		return err
	})
	if err != nil {
		return TransactionPage{}, fmt.Errorf("list transactions: %w", err)
	}
	page.Transactions, page.Next = pageEnd(kindTransaction, page.Transactions, q.Limit, func(t Transaction) (time.Time, string) { return t.BookedOn, t.Reference })
	return page, nil
}

// NewTransaction is a transaction to record. The caller validates it.
type NewTransaction struct {
	BookedOn     time.Time
	Description  string
	Counterparty string
	AmountCents  int64
	Currency     string
	// Invoice is the id or number of the team's invoice this settles, or "".
	Invoice string
}

// CreateTransaction records a transaction for teamID under the team's next
// transaction reference. An Invoice of another team is ErrNotFound, like a
// missing one.
func (s *Store) CreateTransaction(ctx context.Context, teamID string, n NewTransaction) (Transaction, error) {
	team, err := s.Team(ctx, teamID)
	if err != nil {
		return Transaction{}, fmt.Errorf("create transaction: %w", err)
	}
	var t Transaction
	err = s.inTeam(ctx, teamID, pgx.ReadWrite, func(tx pgx.Tx) error {
		var invoiceID *string
		if n.Invoice != "" {
			inv, err := invoiceByRef(ctx, tx, teamID, n.Invoice)
			if err != nil {
				return err
			}
			invoiceID, t.InvoiceNumber = &inv.ID, inv.Number
		}
		var err error
		t.ID, t.Reference, err = insertTransaction(ctx, tx, teamID, team.InvoicePrefix, n, invoiceID)
		return err
	})
	if err != nil {
		return Transaction{}, fmt.Errorf("create transaction: %w", err)
	}
	t.BookedOn, t.Description, t.Counterparty, t.AmountCents, t.Currency = n.BookedOn, n.Description, n.Counterparty, n.AmountCents, n.Currency
	return t, nil
}

func insertTransaction(ctx context.Context, tx pgx.Tx, teamID, prefix string, n NewTransaction, invoiceID *string) (id, reference string, err error) {
	reference, err = nextNumber(ctx, tx, teamID, prefix, kindTransaction, n.BookedOn.Year())
	if err != nil {
		return "", "", err
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO transactions (team_id, reference, booked_on, description, counterparty, amount_cents, currency, invoice_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id::text`,
		teamID, reference, n.BookedOn, n.Description, n.Counterparty, n.AmountCents, n.Currency, invoiceID).Scan(&id)
	if err != nil {
		return "", "", fmt.Errorf("insert transaction: %w", err)
	}
	return id, reference, nil
}

// optionalDate is nil for the zero time, so that SQL sees NULL.
func optionalDate(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

package tools

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

// maxAmountCents bounds a transaction's amount (ten billion units).
const maxAmountCents = 1_000_000_000_000

func addTransactionTools(s *mcp.Server, t *tools) {
	addTool(s, &mcp.Tool{
		Name:  "list_transactions",
		Title: "List transactions",
		Description: "Lists the team's bank transactions, newest first by booking date. Money received has a " +
			"positive amount, money paid out a negative one (in cents, with currency); a payment of an invoice " +
			"names the invoice. Filter by booking date with from and to (YYYY-MM-DD, both inclusive). totals sums " +
			"every transaction of that date range per currency (money in, money out, net), not only this page, " +
			"so use it for balances. Pages like list_invoices: limit (default 20, at most 100) and next_cursor.",
		InputSchema: inputSchema[ListTransactionsInput](func(p map[string]*jsonschema.Schema) {
			dateSchema(p["from"])
			dateSchema(p["to"])
			limitSchema(p)
		}),
		Annotations: readOnly("List transactions"),
	}, t.listTransactions)
	addTool(s, &mcp.Tool{
		Name:  "create_transaction",
		Title: "Record a transaction",
		Description: "Records a transaction in the team's books and returns it with its new reference: a positive " +
			"amount_cents for money received, a negative one for money paid out. To record a customer's payment " +
			"of an invoice, set invoice to the invoice's id or number. The booking date defaults to today. Every " +
			"call records another transaction: call it only when the user asked for one, and do not repeat a " +
			"call that succeeded.",
		InputSchema: inputSchema[CreateTransactionInput](func(p map[string]*jsonschema.Schema) {
			length(p["description"], 1, maxText)
			length(p["counterparty"], 1, maxText)
			bounds(p["amount_cents"], -maxAmountCents, maxAmountCents)
			currencySchema(p["currency"])
			dateSchema(p["booked_on"])
			length(p["invoice"], 1, maxText)
		}),
		Annotations: additive("Record a transaction"),
	}, t.createTransaction)
}

// ListTransactionsInput filters and pages list_transactions.
type ListTransactionsInput struct {
	From   string `json:"from,omitempty" jsonschema:"first booking date to include, YYYY-MM-DD"`
	To     string `json:"to,omitempty" jsonschema:"last booking date to include, YYYY-MM-DD"`
	Limit  int    `json:"limit,omitempty" jsonschema:"how many transactions to return, 1 to 100; 20 when omitted"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous call with the same from and to; omit for the first page"`
}

// ListTransactionsOutput is one page of transactions and the totals of the
// whole date range.
type ListTransactionsOutput struct {
	Transactions []TransactionOutput `json:"transactions"`
	Totals       []CurrencyTotal     `json:"totals" jsonschema:"per currency, over every transaction between from and to"`
	NextCursor   string              `json:"next_cursor,omitempty" jsonschema:"pass as cursor to get the next page; absent on the last page"`
}

// TransactionOutput is one transaction.
type TransactionOutput struct {
	ID            string `json:"id"`
	Reference     string `json:"reference" jsonschema:"the booking reference, unique in the team"`
	BookedOn      string `json:"booked_on" jsonschema:"booking date, YYYY-MM-DD"`
	Description   string `json:"description"`
	Counterparty  string `json:"counterparty" jsonschema:"who paid or was paid"`
	AmountCents   int64  `json:"amount_cents" jsonschema:"in the currency's minor unit (cents): positive for money in, negative for money out"`
	Currency      string `json:"currency" jsonschema:"ISO 4217 code"`
	InvoiceNumber string `json:"invoice_number,omitempty" jsonschema:"the invoice this payment settles"`
}

// CurrencyTotal sums the transactions of one currency.
type CurrencyTotal struct {
	Currency string `json:"currency"`
	InCents  int64  `json:"in_cents" jsonschema:"money received"`
	OutCents int64  `json:"out_cents" jsonschema:"money paid out, as a positive number"`
	NetCents int64  `json:"net_cents" jsonschema:"in minus out"`
	Count    int    `json:"count" jsonschema:"number of transactions"`
}

func (t *tools) listTransactions(ctx context.Context, id *gate.Identity, in ListTransactionsInput) (ListTransactionsOutput, error) {
	from, err := parseDate("from", in.From)
	if err != nil {
		return ListTransactionsOutput{}, err
	}
	to, err := parseDate("to", in.To)
	if err != nil {
		return ListTransactionsOutput{}, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return ListTransactionsOutput{}, argError("to", "%s is before from %s", in.To, in.From)
	}
	page, err := t.store.ListTransactions(ctx, id.TeamID, store.TransactionQuery{From: from, To: to, Limit: pageSize(in.Limit), Cursor: in.Cursor})
	if err != nil {
		return ListTransactionsOutput{}, t.listFailed(ctx, "list_transactions", err)
	}
	return ListTransactionsOutput{
		Transactions: convert(page.Transactions, transactionOutput),
		Totals: convert(page.Totals, func(c store.CurrencyTotal) CurrencyTotal {
			return CurrencyTotal{Currency: c.Currency, InCents: c.InCents, OutCents: c.OutCents, NetCents: c.NetCents, Count: c.Count}
		}),
		NextCursor: page.Next,
	}, nil
}

// CreateTransactionInput is the transaction to record.
type CreateTransactionInput struct {
	Description  string `json:"description" jsonschema:"what the transaction is for"`
	Counterparty string `json:"counterparty" jsonschema:"who paid or was paid"`
	AmountCents  int64  `json:"amount_cents" jsonschema:"in the currency's minor unit (cents): positive for money received, negative for money paid out, never 0"`
	Currency     string `json:"currency" jsonschema:"ISO 4217 code in capitals, such as USD or EUR"`
	BookedOn     string `json:"booked_on,omitempty" jsonschema:"booking date, YYYY-MM-DD; today when omitted"`
	Invoice      string `json:"invoice,omitempty" jsonschema:"id or number of the team's invoice this payment settles"`
}

func newTransaction(in CreateTransactionInput, now func() time.Time) (store.NewTransaction, error) {
	var n store.NewTransaction
	var err error
	if n.Description, err = requiredText("description", in.Description); err != nil {
		return n, err
	}
	if n.Counterparty, err = requiredText("counterparty", in.Counterparty); err != nil {
		return n, err
	}
	if in.AmountCents == 0 || in.AmountCents > maxAmountCents || in.AmountCents < -maxAmountCents {
		return n, argError("amount_cents", "%d is out of range; use a positive amount for money in, a negative one for money out, at most %d cents either way", in.AmountCents, int64(maxAmountCents))
	}
	n.AmountCents = in.AmountCents
	if err := checkCurrency(in.Currency); err != nil {
		return n, err
	}
	n.Currency = in.Currency
	if n.BookedOn, err = parseDate("booked_on", in.BookedOn); err != nil {
		return n, err
	}
	if n.BookedOn.IsZero() {
		n.BookedOn = today(now())
	}
	n.Invoice = strings.TrimSpace(in.Invoice)
	return n, nil
}

func (t *tools) createTransaction(ctx context.Context, id *gate.Identity, in CreateTransactionInput) (TransactionOutput, error) {
	n, err := newTransaction(in, t.now)
	if err != nil {
		return TransactionOutput{}, err
	}
	tr, err := t.store.CreateTransaction(ctx, id.TeamID, n)
	switch {
	case errors.Is(err, store.ErrNotFound) && n.Invoice != "":
		return TransactionOutput{}, invoiceNotFound(n.Invoice)
	case err != nil:
		return TransactionOutput{}, t.fail(ctx, "create_transaction", err)
	}
	t.log.InfoContext(ctx, "transaction recorded", "team_id", id.TeamID, "connection_id", id.ConnectionID, "reference", tr.Reference)
	return transactionOutput(tr), nil
}

func transactionOutput(tr store.Transaction) TransactionOutput {
	return TransactionOutput{
		ID: tr.ID, Reference: tr.Reference, BookedOn: formatDate(tr.BookedOn), Description: tr.Description,
		Counterparty: tr.Counterparty, AmountCents: tr.AmountCents, Currency: tr.Currency, InvoiceNumber: tr.InvoiceNumber,
	}
}

package tools

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

// Bounds of create_invoice's line items.
const (
	maxLines          = 50
	maxQuantity       = 1_000_000
	maxUnitPriceCents = 1_000_000_000 // with maxQuantity, a line amount fits an int64 easily
)

func addInvoiceTools(s *mcp.Server, t *tools) {
	addTool(s, &mcp.Tool{
		Name:  "list_invoices",
		Title: "List invoices",
		Description: "Lists the team's invoices, newest first by issue date: id, number, customer, total (in cents, " +
			"with currency), status and issue and due dates. Line items are left out; get_invoice has them. " +
			"Filter by status or by part of the customer's name. Returns up to limit invoices (default 20, at most " +
			"100); when next_cursor is present, call again with cursor set to it for the next page.",
		InputSchema: inputSchema[ListInvoicesInput](func(p map[string]*jsonschema.Schema) {
			p["status"].Enum = enum(store.InvoiceStatuses...)
			length(p["customer"], 1, maxText)
			limitSchema(p)
		}),
		Annotations: readOnly("List invoices"),
	}, t.listInvoices)
	addTool(s, &mcp.Tool{
		Name:  "get_invoice",
		Title: "Get an invoice",
		Description: "Returns one of the team's invoices with its line items (description, quantity, unit price " +
			"and amount). Identify it by the id or by the number (such as ACME-2026-0001) that list_invoices returns.",
		InputSchema: inputSchema[GetInvoiceInput](func(p map[string]*jsonschema.Schema) {
			length(p["invoice"], 1, maxText)
		}),
		Annotations: readOnly("Get an invoice"),
	}, t.getInvoice)
	addTool(s, &mcp.Tool{
		Name:  "list_estimates",
		Title: "List estimates",
		Description: "Lists the team's estimates (quotes sent to customers before work is invoiced), newest first: " +
			"number, customer, summary, amount (in cents, with currency), status and how long the estimate is valid. " +
			"Filter by status. Pages like list_invoices: limit (default 20, at most 100) and next_cursor.",
		InputSchema: inputSchema[ListEstimatesInput](func(p map[string]*jsonschema.Schema) {
			p["status"].Enum = enum(store.EstimateStatuses...)
			limitSchema(p)
		}),
		Annotations: readOnly("List estimates"),
	}, t.listEstimates)
	addTool(s, &mcp.Tool{
		Name:  "create_invoice",
		Title: "Create an invoice",
		Description: "Creates an invoice in the team's name and returns it with its new number. Give the customer, " +
			"the currency and the line items (description, quantity, unit price in cents); the amounts and the " +
			"total are computed. The invoice is a draft unless status is \"sent\". The issue date defaults to " +
			"today and the due date to 30 days after it. Every call creates another invoice: call it only when " +
			"the user asked for one, and do not repeat a call that succeeded.",
		InputSchema: inputSchema[CreateInvoiceInput](func(p map[string]*jsonschema.Schema) {
			length(p["customer"], 1, maxText)
			currencySchema(p["currency"])
			p["status"].Enum = enum("draft", "sent")
			dateSchema(p["issued_on"])
			dateSchema(p["due_on"])
			lo, hi := 1, maxLines
			p["lines"].MinItems, p["lines"].MaxItems = &lo, &hi
			line := p["lines"].Items.Properties
			length(line["description"], 1, maxText)
			zero, most := 0.0, float64(maxQuantity)
			line["quantity"].ExclusiveMinimum, line["quantity"].Maximum = &zero, &most
			bounds(line["unit_price_cents"], 0, maxUnitPriceCents)
		}),
		Annotations: additive("Create an invoice"),
	}, t.createInvoice)
}

// ListInvoicesInput filters and pages list_invoices.
type ListInvoicesInput struct {
	Status   string `json:"status,omitempty" jsonschema:"only invoices with this status"`
	Customer string `json:"customer,omitempty" jsonschema:"only invoices whose customer name contains this text (any case)"`
	Limit    int    `json:"limit,omitempty" jsonschema:"how many invoices to return, 1 to 100; 20 when omitted"`
	Cursor   string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous call, for the following page; omit for the first page"`
}

// ListInvoicesOutput is one page of invoices.
type ListInvoicesOutput struct {
	Invoices   []InvoiceSummary `json:"invoices"`
	NextCursor string           `json:"next_cursor,omitempty" jsonschema:"pass as cursor to get the next page; absent on the last page"`
}

// InvoiceSummary is an invoice without its lines.
type InvoiceSummary struct {
	ID         string `json:"id" jsonschema:"the invoice's id, accepted wherever an invoice is asked for"`
	Number     string `json:"number" jsonschema:"the invoice number, unique in the team; accepted like the id"`
	Customer   string `json:"customer"`
	TotalCents int64  `json:"total_cents" jsonschema:"the total in the currency's minor unit (cents)"`
	Currency   string `json:"currency" jsonschema:"ISO 4217 code"`
	Status     string `json:"status" jsonschema:"draft, sent, paid, overdue or void"`
	IssuedOn   string `json:"issued_on" jsonschema:"issue date, YYYY-MM-DD"`
	DueOn      string `json:"due_on" jsonschema:"due date, YYYY-MM-DD"`
}

// InvoiceOutput is an invoice with its lines.
type InvoiceOutput struct {
	InvoiceSummary
	Lines []InvoiceLineOutput `json:"lines"`
}

// InvoiceLineOutput is one billed item.
type InvoiceLineOutput struct {
	Description    string  `json:"description"`
	Quantity       float64 `json:"quantity"`
	UnitPriceCents int64   `json:"unit_price_cents" jsonschema:"price of one unit in cents"`
	AmountCents    int64   `json:"amount_cents" jsonschema:"quantity times unit price, rounded to a cent"`
}

func (t *tools) listInvoices(ctx context.Context, id *gate.Identity, in ListInvoicesInput) (ListInvoicesOutput, error) {
	page, err := t.store.ListInvoices(ctx, id.TeamID, store.InvoiceQuery{
		Status: in.Status, Customer: strings.TrimSpace(in.Customer), Limit: pageSize(in.Limit), Cursor: in.Cursor,
	})
	if err != nil {
		return ListInvoicesOutput{}, t.listFailed(ctx, "list_invoices", err)
	}
	return ListInvoicesOutput{Invoices: convert(page.Invoices, invoiceSummary), NextCursor: page.Next}, nil
}

// GetInvoiceInput names the invoice to get.
type GetInvoiceInput struct {
	Invoice string `json:"invoice" jsonschema:"the invoice's id or number, as list_invoices returns them"`
}

func (t *tools) getInvoice(ctx context.Context, id *gate.Identity, in GetInvoiceInput) (InvoiceOutput, error) {
	ref := strings.TrimSpace(in.Invoice)
	if ref == "" {
		return InvoiceOutput{}, argError("invoice", "must not be empty; pass an id or number from list_invoices")
	}
	inv, err := t.store.Invoice(ctx, id.TeamID, ref)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return InvoiceOutput{}, invoiceNotFound(ref)
	case err != nil:
		return InvoiceOutput{}, t.fail(ctx, "get_invoice", err)
	}
	return invoiceOutput(inv), nil
}

// invoiceNotFound is the one answer for an invoice that does not exist and
// one of another team: the two must be indistinguishable.
func invoiceNotFound(ref string) error {
	return fmt.Errorf("invoice %q not found; list_invoices shows this team's invoices with their ids and numbers", ref)
}

// listFailed is a list tool's answer to its query's error: a cursor the
// tool did not hand out is the caller's mistake, anything else the server's.
func (t *tools) listFailed(ctx context.Context, tool string, err error) error {
	if errors.Is(err, store.ErrBadCursor) {
		return argError("cursor", "not a cursor of %s; pass the next_cursor of the previous %s call unchanged, or omit it for the first page", tool, tool)
	}
	return t.fail(ctx, tool, err)
}

// CreateInvoiceInput is the invoice to create.
type CreateInvoiceInput struct {
	Customer string         `json:"customer" jsonschema:"who is billed, as the name should appear on the invoice"`
	Currency string         `json:"currency" jsonschema:"ISO 4217 code in capitals, such as USD or EUR"`
	Lines    []NewLineInput `json:"lines" jsonschema:"what is billed, 1 to 50 items"`
	Status   string         `json:"status,omitempty" jsonschema:"draft (when omitted) or sent"`
	IssuedOn string         `json:"issued_on,omitempty" jsonschema:"issue date, YYYY-MM-DD; today when omitted"`
	DueOn    string         `json:"due_on,omitempty" jsonschema:"due date, YYYY-MM-DD, not before the issue date; 30 days after the issue date when omitted"`
}

// NewLineInput is one item of create_invoice.
type NewLineInput struct {
	Description    string  `json:"description" jsonschema:"what the item is"`
	Quantity       float64 `json:"quantity" jsonschema:"how many units (hours, pieces...), more than 0, up to 3 decimals"`
	UnitPriceCents int64   `json:"unit_price_cents" jsonschema:"price of one unit in the currency's minor unit (cents), 0 or more"`
}

// paymentTermDays is the default time between issue and due date.
const paymentTermDays = 30

// newInvoice checks the arguments of create_invoice and fills in defaults.
func newInvoice(in CreateInvoiceInput, now func() time.Time) (store.NewInvoice, error) {
	var n store.NewInvoice
	var err error
	if n.Customer, err = requiredText("customer", in.Customer); err != nil {
		return n, err
	}
	if err := checkCurrency(in.Currency); err != nil {
		return n, err
	}
	n.Currency = in.Currency
	switch in.Status {
	case "":
		n.Status = "draft"
	case "draft", "sent":
		n.Status = in.Status
	default:
		return n, argError("status", "%q is not allowed; a new invoice is draft or sent", in.Status)
	}
	if n.IssuedOn, err = parseDate("issued_on", in.IssuedOn); err != nil {
		return n, err
	}
	if n.IssuedOn.IsZero() {
		n.IssuedOn = today(now())
	}
	if n.DueOn, err = parseDate("due_on", in.DueOn); err != nil {
		return n, err
	}
	if n.DueOn.IsZero() {
		n.DueOn = n.IssuedOn.AddDate(0, 0, paymentTermDays)
	}
	if n.DueOn.Before(n.IssuedOn) {
		return n, argError("due_on", "%s is before the issue date %s", formatDate(n.DueOn), formatDate(n.IssuedOn))
	}
	if len(in.Lines) == 0 || len(in.Lines) > maxLines {
		return n, argError("lines", "give 1 to %d line items, not %d", maxLines, len(in.Lines))
	}
	for i, l := range in.Lines {
		name := fmt.Sprintf("lines[%d].", i)
		desc, err := requiredText(name+"description", l.Description)
		if err != nil {
			return n, err
		}
		milli := math.Round(l.Quantity * 1000)
		switch {
		case !(l.Quantity > 0) || l.Quantity > maxQuantity:
			return n, argError(name+"quantity", "%v is out of range; use more than 0 and at most %d", l.Quantity, maxQuantity)
		case math.Abs(l.Quantity*1000-milli) > 1e-6:
			return n, argError(name+"quantity", "%v has more than 3 decimals", l.Quantity)
		case l.UnitPriceCents < 0 || l.UnitPriceCents > maxUnitPriceCents:
			return n, argError(name+"unit_price_cents", "%d is out of range; use 0 to %d cents", l.UnitPriceCents, maxUnitPriceCents)
		}
		n.Lines = append(n.Lines, store.NewLine{Description: desc, QuantityMilli: int64(milli), UnitPriceCents: l.UnitPriceCents})
	}
	return n, nil
}

func (t *tools) createInvoice(ctx context.Context, id *gate.Identity, in CreateInvoiceInput) (InvoiceOutput, error) {
	n, err := newInvoice(in, t.now)
	if err != nil {
		return InvoiceOutput{}, err
	}
	inv, err := t.store.CreateInvoice(ctx, id.TeamID, n)
	if err != nil {
		return InvoiceOutput{}, t.fail(ctx, "create_invoice", err)
	}
	t.log.InfoContext(ctx, "invoice created", "team_id", id.TeamID, "connection_id", id.ConnectionID, "number", inv.Number)
	return invoiceOutput(inv), nil
}

// ListEstimatesInput filters and pages list_estimates.
type ListEstimatesInput struct {
	Status string `json:"status,omitempty" jsonschema:"only estimates with this status"`
	Limit  int    `json:"limit,omitempty" jsonschema:"how many estimates to return, 1 to 100; 20 when omitted"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous call, for the following page; omit for the first page"`
}

// ListEstimatesOutput is one page of estimates.
type ListEstimatesOutput struct {
	Estimates  []EstimateOutput `json:"estimates"`
	NextCursor string           `json:"next_cursor,omitempty" jsonschema:"pass as cursor to get the next page; absent on the last page"`
}

// EstimateOutput is one estimate.
type EstimateOutput struct {
	ID          string `json:"id"`
	Number      string `json:"number" jsonschema:"the estimate number, unique in the team"`
	Customer    string `json:"customer"`
	Summary     string `json:"summary" jsonschema:"what the estimate covers"`
	AmountCents int64  `json:"amount_cents" jsonschema:"the estimated total in the currency's minor unit (cents)"`
	Currency    string `json:"currency" jsonschema:"ISO 4217 code"`
	Status      string `json:"status" jsonschema:"draft, sent, accepted, declined or expired"`
	IssuedOn    string `json:"issued_on" jsonschema:"issue date, YYYY-MM-DD"`
	ValidUntil  string `json:"valid_until" jsonschema:"last day the customer may accept it, YYYY-MM-DD"`
}

func (t *tools) listEstimates(ctx context.Context, id *gate.Identity, in ListEstimatesInput) (ListEstimatesOutput, error) {
	page, err := t.store.ListEstimates(ctx, id.TeamID, store.EstimateQuery{Status: in.Status, Limit: pageSize(in.Limit), Cursor: in.Cursor})
	if err != nil {
		return ListEstimatesOutput{}, t.listFailed(ctx, "list_estimates", err)
	}
	return ListEstimatesOutput{Estimates: convert(page.Estimates, estimateOutput), NextCursor: page.Next}, nil
}

func estimateOutput(e store.Estimate) EstimateOutput {
	return EstimateOutput{
		ID: e.ID, Number: e.Number, Customer: e.Customer, Summary: e.Summary, AmountCents: e.AmountCents,
		Currency: e.Currency, Status: e.Status, IssuedOn: formatDate(e.IssuedOn), ValidUntil: formatDate(e.ValidUntil),
	}
}

func invoiceSummary(inv store.Invoice) InvoiceSummary {
	return InvoiceSummary{
		ID: inv.ID, Number: inv.Number, Customer: inv.Customer, TotalCents: inv.TotalCents, Currency: inv.Currency,
		Status: inv.Status, IssuedOn: formatDate(inv.IssuedOn), DueOn: formatDate(inv.DueOn),
	}
}

func invoiceOutput(inv store.Invoice) InvoiceOutput {
	return InvoiceOutput{InvoiceSummary: invoiceSummary(inv), Lines: convert(inv.Lines, func(l store.InvoiceLine) InvoiceLineOutput {
		return InvoiceLineOutput{
			Description: l.Description, Quantity: l.Quantity, UnitPriceCents: l.UnitPriceCents, AmountCents: l.AmountCents,
		}
	})}
}

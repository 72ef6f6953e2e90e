package tools

import (
	"context"
	"errors"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

// Page sizes for list_invoices.
const (
	defaultInvoiceLimit = 20
	maxInvoiceLimit     = 100
)

// ListInvoicesInput filters and pages list_invoices.
type ListInvoicesInput struct {
	Status string `json:"status,omitempty" jsonschema:"only return invoices with this status"`
	Limit  int    `json:"limit,omitempty" jsonschema:"how many invoices to return (1-100, default 20)"`
	Cursor string `json:"cursor,omitempty" jsonschema:"next_cursor from a previous list_invoices call, to get the following page; omit for the first page"`
}

// ListInvoicesOutput is one page of invoices.
type ListInvoicesOutput struct {
	Invoices   []InvoiceOutput `json:"invoices"`
	NextCursor string          `json:"next_cursor,omitempty" jsonschema:"pass as cursor to get the next page; absent on the last page"`
}

// InvoiceOutput is one invoice as the model sees it.
type InvoiceOutput struct {
	Number      string `json:"number"`
	Customer    string `json:"customer"`
	AmountCents int64  `json:"amount_cents" jsonschema:"total in the currency's minor unit (cents)"`
	Currency    string `json:"currency" jsonschema:"ISO 4217 code"`
	Status      string `json:"status"`
	IssuedOn    string `json:"issued_on" jsonschema:"issue date, YYYY-MM-DD"`
	DueOn       string `json:"due_on" jsonschema:"due date, YYYY-MM-DD"`
}

// listInvoicesSchema is the inferred input schema plus what struct tags
// cannot say: the status values and the limit's bounds, which the SDK then
// enforces before the handler runs. The limit's default is applied by the
// handler, not declared in the schema: go-sdk v1.8.0 panics applying schema
// defaults when a call sends "arguments": null.
func listInvoicesSchema() *jsonschema.Schema {
	s, err := jsonschema.For[ListInvoicesInput](nil)
	if err != nil {
		panic("tools: list_invoices schema: " + err.Error())
	}
	for _, st := range store.InvoiceStatuses {
		s.Properties["status"].Enum = append(s.Properties["status"].Enum, st)
	}
	lo, hi := float64(1), float64(maxInvoiceLimit)
	s.Properties["limit"].Minimum, s.Properties["limit"].Maximum = &lo, &hi
	return s
}

func (t *tools) listInvoices(ctx context.Context, id *gate.Identity, in ListInvoicesInput) (ListInvoicesOutput, error) {
	limit := in.Limit
	if limit <= 0 {
		limit = defaultInvoiceLimit
	}
	limit = min(limit, maxInvoiceLimit)
	page, err := t.store.ListInvoices(ctx, id.TeamID, store.InvoiceQuery{Status: in.Status, Limit: limit, Cursor: in.Cursor})
	switch {
	case errors.Is(err, store.ErrBadCursor):
		return ListInvoicesOutput{}, errors.New("invalid cursor: pass the next_cursor of a previous list_invoices call unchanged")
	case err != nil:
		return ListInvoicesOutput{}, t.fail(ctx, "list_invoices", err)
	}
	out := ListInvoicesOutput{Invoices: make([]InvoiceOutput, 0, len(page.Invoices)), NextCursor: page.Next}
	for _, inv := range page.Invoices {
		out.Invoices = append(out.Invoices, InvoiceOutput{
			Number:      inv.Number,
			Customer:    inv.Customer,
			AmountCents: inv.AmountCents,
			Currency:    inv.Currency,
			Status:      inv.Status,
			IssuedOn:    inv.IssuedOn.Format(time.DateOnly),
			DueOn:       inv.DueOn.Format(time.DateOnly),
		})
	}
	return out, nil
}

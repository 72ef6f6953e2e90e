package store_test

import (
	"testing"

	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
)

// BenchmarkListInvoices is the tool scripts/bench loads: one fenced
// read-only transaction listing a page of five invoices. It needs
// DATABASE_URL (scripts/test sets it):
//
//	DATABASE_URL=postgres://... go test -run '^$' -bench ListInvoices ./internal/store/
func BenchmarkListInvoices(b *testing.B) {
	db := storetest.Seeded(b)
	for b.Loop() {
		page, err := db.Store.ListInvoices(b.Context(), acmeID, store.InvoiceQuery{Limit: 5})
		if err != nil || len(page.Invoices) != 5 {
			b.Fatalf("%d invoices, %v", len(page.Invoices), err)
		}
	}
}

// BenchmarkConnection is the gate's lookup of a token's connection, made
// on every request.
func BenchmarkConnection(b *testing.B) {
	db := storetest.Seeded(b)
	for b.Loop() {
		if _, err := db.Store.Connection(b.Context(), storetest.AcmeConnection); err != nil {
			b.Fatal(err)
		}
	}
}

package store_test

import (
	"testing"

	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
	"github.com/mcp-oauth/ops/pgtest"
)

// TestConnectionLookupUsesIndexes keeps the connection lookup on the
// primary keys: compared as text (id::text = $1) it would be a sequential
// scan of every connection.
func TestConnectionLookupUsesIndexes(t *testing.T) {
	db := storetest.New(t)
	pgtest.Explain(t, db.Pool, store.ConnectionQuery, "00000000-0000-4000-8000-000000000001").
		UsesIndexes(t, "Connection", "connections", "teams")
}

package store_test

import (
	"testing"

	"github.com/mcp-oauth/consent-app/internal/store/storetest"
	"github.com/mcp-oauth/consent-app/migrations/schematest"
)

// TestSchemaContract: the consent app's migrations keep what the MCP server
// relies on (package schematest; the MCP server runs the same contract).
func TestSchemaContract(t *testing.T) {
	schematest.Contract(t, storetest.New(t).Pool)
}

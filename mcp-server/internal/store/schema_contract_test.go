package store_test

import (
	"testing"

	"github.com/mcp-oauth/consent-app/migrations/schematest"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
)

// TestSchemaContract: the consent app's real schema, as this service's test
// databases have it, has what this service reads (package schematest; the
// consent app runs the same contract against its migrations).
func TestSchemaContract(t *testing.T) {
	schematest.Contract(t, storetest.New(t).Pool)
}

package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mcp-oauth/catalog/contract"
)

// migrationsSQL returns the consent app's migrations, by file name.
func migrationsSQL(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	sql := make(map[string]string, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sql[filepath.Base(f)] = string(b)
	}
	return sql
}

// The MCP server listens on contract.ConnectionChanged; the schema must
// notify exactly that channel, and nothing else.
func TestMigrationsNotifyTheContractChannel(t *testing.T) {
	notify := regexp.MustCompile(`pg_notify\(\s*'([^']*)'`)
	n := 0
	for name, sql := range migrationsSQL(t) {
		for _, m := range notify.FindAllStringSubmatch(sql, -1) {
			n++
			if m[1] != contract.ConnectionChanged {
				t.Errorf("%s notifies channel %q, want %q (contract.ConnectionChanged)", name, m[1], contract.ConnectionChanged)
			}
		}
	}
	if n == 0 {
		t.Errorf("no migration notifies channel %q", contract.ConnectionChanged)
	}
}

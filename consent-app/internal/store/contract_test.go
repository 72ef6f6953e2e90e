package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-oauth/catalog/contract"
)

// migrationsSQL returns the consent app's migrations, by file name.
func migrationsSQL(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "migrations", "*.sql"))
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

// The CHECK on memberships.role admits exactly contract.Roles.
func TestRoleCheckIsTheContract(t *testing.T) {
	check := regexp.MustCompile(`\brole\s+text\b[^,]*?CHECK\s*\(\s*role\s+IN\s*\(([^)]*)\)\s*\)`)
	m := check.FindStringSubmatch(migrationsSQL(t)["00001_accounts_and_connections.sql"])
	if m == nil {
		t.Fatal("no CHECK (role IN (…)) on memberships.role in migration 00001")
	}
	var got, want []string
	for _, v := range strings.Split(m[1], ",") {
		got = append(got, strings.Trim(strings.TrimSpace(v), "'"))
	}
	for _, r := range contract.Roles() {
		want = append(want, string(r))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the CHECK admits %q, contract.Roles are %q", got, want)
	}
}

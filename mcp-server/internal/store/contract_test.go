package store_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-oauth/catalog/contract"
)

// TestAuditOutcomeCheckIsTheContract: the CHECK on audit_events.outcome
// admits exactly contract.Outcomes, so the Go vocabulary and the table's
// cannot drift apart.
func TestAuditOutcomeCheckIsTheContract(t *testing.T) {
	sql, err := os.ReadFile("migrations/00003_audit_events.sql")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)\boutcome\s+text\b[^,]*?CHECK\s*\(\s*outcome\s+IN\s*\(([^)]*)\)\s*\)`).FindSubmatch(sql)
	if m == nil {
		t.Fatal("no CHECK (outcome IN (…)) on audit_events.outcome in migration 00003")
	}
	var got []string
	for _, v := range strings.Split(string(m[1]), ",") {
		got = append(got, strings.Trim(strings.TrimSpace(v), "'"))
	}
	var want []string
	for _, o := range contract.Outcomes() {
		want = append(want, string(o))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the CHECK admits %q, contract.Outcomes are %q", got, want)
	}
}

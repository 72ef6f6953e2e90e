package catalog

import (
	"slices"
	"strings"
	"testing"
)

// FuzzKnown: from any scope string, only catalog scopes come out, each
// once, in catalog order, and only those that were asked for.
func FuzzKnown(f *testing.F) {
	for _, s := range []string{"invoices:read", "openid profile invoices:write invoices:write", "INVOICES:READ", " accounting:read\taccounting:write\n", "invoices:read\x00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, scope string) {
		requested := strings.Fields(scope)
		got := Known(requested)
		last := -1
		for _, s := range got {
			i := slices.Index(Names(), s)
			if i < 0 || !slices.Contains(requested, s) {
				t.Fatalf("Known(%q) = %v: %q is not a requested catalog scope", scope, got, s)
			}
			if i <= last {
				t.Fatalf("Known(%q) = %v: not in catalog order or repeated", scope, got)
			}
			last = i
		}
		for _, s := range requested {
			if _, ok := Lookup(s); ok && !slices.Contains(got, s) {
				t.Fatalf("Known(%q) = %v dropped the catalog scope %q", scope, got, s)
			}
		}
	})
}

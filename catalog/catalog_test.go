package catalog

import (
	"encoding/json"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
)

func TestKnownDropsUnknownAndKeepsCatalogOrder(t *testing.T) {
	tests := []struct {
		name      string
		requested []string
		want      []string
	}{
		{"empty", nil, nil},
		{"unknown only", []string{"openid", "offline_access", "admin"}, nil},
		{"order and duplicates", []string{"accounting:read", "invoices:read", "accounting:read"}, []string{"invoices:read", "accounting:read"}},
		{"mixed", []string{"invoices:write", "email"}, []string{"invoices:write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Known(tt.requested); !slices.Equal(got, tt.want) {
				t.Errorf("Known(%q) = %q, want %q", tt.requested, got, tt.want)
			}
		})
	}
}

func TestScopeForTool(t *testing.T) {
	tests := []struct {
		tool      string
		wantScope string
		wantKnown bool
	}{
		{"whoami", "", true},
		{"list_invoices", "invoices:read", true},
		{"get_invoice", "invoices:read", true},
		{"create_invoice", "invoices:write", true},
		{"list_transactions", "accounting:read", true},
		{"create_transaction", "accounting:write", true},
		{"drop_database", "", false},
	}
	for _, tt := range tests {
		scope, known := ScopeForTool(tt.tool)
		if scope != tt.wantScope || known != tt.wantKnown {
			t.Errorf("ScopeForTool(%q) = %q, %v; want %q, %v", tt.tool, scope, known, tt.wantScope, tt.wantKnown)
		}
	}
}

func TestEveryToolHasExactlyOneScope(t *testing.T) {
	seen := map[string]string{}
	for _, s := range All() {
		if s.Access != Read && s.Access != Write {
			t.Errorf("scope %s has access %q", s.Name, s.Access)
		}
		for _, tool := range s.Tools {
			if other, dup := seen[tool]; dup {
				t.Errorf("tool %s is unlocked by both %s and %s", tool, other, s.Name)
			}
			seen[tool] = s.Name
		}
	}
}

func TestClientScopesIncludeOfflineAccess(t *testing.T) {
	got := ClientScopes()
	if !slices.Contains(got, OfflineAccess) || len(got) != len(All())+1 {
		t.Errorf("ClientScopes() = %q", got)
	}
	// ClientScopes must not alias the catalog.
	got[0] = "changed"
	if Names()[0] == "changed" {
		t.Error("ClientScopes aliases the catalog")
	}
}

func TestBaselineIsReadOnly(t *testing.T) {
	baseline := BaselineNames()
	if len(baseline) == 0 {
		t.Fatal("no baseline scopes: a first connection could do nothing")
	}
	for _, name := range baseline {
		s, ok := Lookup(name)
		if !ok || s.Access != Read {
			t.Errorf("baseline scope %s: in catalog %v, access %q; a first consent must not grant writes", name, ok, s.Access)
		}
	}
}

// TestEveryScopeIsTranslated: every message file has a label and a
// description for every catalog scope, and nothing else, so no language can
// miss a key the others have, and at least English, German and French exist.
func TestEveryScopeIsTranslated(t *testing.T) {
	want := map[string]bool{}
	for _, s := range All() {
		want[LabelID(s.Name)] = true
		want[DescriptionID(s.Name)] = true
	}
	files, err := fs.Glob(MessageFiles(), "*.json")
	if err != nil {
		t.Fatal(err)
	}
	var langs []string
	for _, name := range files {
		lang := strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "scopes."), ".json")
		langs = append(langs, lang)
		raw, err := fs.ReadFile(MessageFiles(), name)
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for id := range want {
			if strings.TrimSpace(msgs[id]) == "" {
				t.Errorf("%s: no text for %s", name, id)
			}
		}
		for id := range msgs {
			if !want[id] {
				t.Errorf("%s: %s is not a label or description of a catalog scope", name, id)
			}
		}
	}
	for _, lang := range []string{"en", "de", "fr"} {
		if !slices.Contains(langs, lang) {
			t.Errorf("no scope texts in %q (have %v)", lang, langs)
		}
	}
	if len(want) != 2*len(All()) {
		t.Errorf("message ids of different scopes collide: %v", want)
	}
}

func TestEnglishLabel(t *testing.T) {
	if got := EnglishLabel("invoices:write"); got != "Create and send invoices and estimates" {
		t.Errorf("EnglishLabel(invoices:write) = %q", got)
	}
	if got := EnglishLabel("nonsense"); got != "" {
		t.Errorf("EnglishLabel(nonsense) = %q", got)
	}
}

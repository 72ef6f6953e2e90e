package clientmeta

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/store"
)

const (
	claudeCode = "https://claude.ai/oauth/claude-code-client-metadata"
	codex      = "https://chatgpt.com/oauth/codex/client.json"
)

func TestBuiltinKnownClients(t *testing.T) {
	k, err := LoadKnown("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ clientID, name, publisher, redirect string }{
		// The redirects the binaries send (docs/design.md): an ephemeral port
		// on the document's port-less loopback URIs.
		{claudeCode, "Claude Code", "Anthropic", "http://localhost:61030/callback"},
		{codex, "Codex", "OpenAI", "http://127.0.0.1:50123/callback"},
		{"https://claude.ai/oauth/mcp-oauth-client-metadata", "Claude", "Anthropic", "https://claude.ai/api/mcp/auth_callback"},
		{"https://chatgpt.com/oauth/client.json", "ChatGPT", "OpenAI", "https://chatgpt.com/connector_platform_oauth_redirect"},
		{"https://vscode.dev/oauth/client-metadata.json", "Visual Studio Code", "Microsoft", "http://127.0.0.1:33419/"},
	} {
		c, ok := k.Lookup(tc.clientID)
		if !ok || c.Name != tc.name || c.Publisher != tc.publisher {
			t.Errorf("Lookup(%s) = %+v, %v", tc.clientID, c, ok)
			continue
		}
		m, err := ValidateDocument(c.Document, c.ClientID)
		if err != nil {
			t.Errorf("%s: %v", tc.clientID, err)
			continue
		}
		if checkRedirect(m.RedirectURIs, tc.redirect, c.ClientID) != nil {
			t.Errorf("%s: %s is refused", tc.clientID, tc.redirect)
		}
	}
	// Only Claude Code is sent step-up links; every other client gets the
	// standard challenge.
	for _, id := range []string{claudeCode, codex, "https://claude.ai/oauth/mcp-oauth-client-metadata", "https://chatgpt.com/oauth/client.json", "https://vscode.dev/oauth/client-metadata.json"} {
		c, _ := k.Lookup(id)
		if want := map[bool]string{true: contract.StepUpByLink}[id == claudeCode]; c.StepUp != want {
			t.Errorf("%s: step_up %q, want %q", id, c.StepUp, want)
		}
	}
	// Exact client_id only: a look-alike is fetched like any other URL.
	for _, id := range []string{claudeCode + "/", "https://claude.ai/oauth/claude-code-client-metadata?x", "https://CLAUDE.ai/oauth/claude-code-client-metadata"} {
		if _, ok := k.Lookup(id); ok {
			t.Errorf("Lookup(%q) found a pinned client", id)
		}
	}
}

func TestOperatorKnownClients(t *testing.T) {
	own := "https://apps.example.com/our-client.json"
	write := func(entries any) string {
		raw, _ := json.Marshal(entries)
		p := filepath.Join(t.TempDir(), "known.json")
		if err := os.WriteFile(p, raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	k, err := LoadKnown(write([]map[string]any{
		{"client_id": codex, "disabled": true},
		{"client_id": own, "name": "Our Agent", "publisher": "Example Inc.", "source": "our own", "document": map[string]any{
			"client_id": own, "redirect_uris": []string{"https://apps.example.com/cb"}}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Lookup(codex); ok {
		t.Error("a disabled built-in is still pinned")
	}
	if c, ok := k.Lookup(own); !ok || c.Publisher != "Example Inc." {
		t.Errorf("the operator's client: %+v, %v", c, ok)
	}
	if _, ok := k.Lookup(claudeCode); !ok {
		t.Error("the other built-ins are gone")
	}

	for name, entries := range map[string]any{
		"document for another URL": []map[string]any{{"client_id": own, "name": "A", "publisher": "B", "source": "C",
			"document": map[string]any{"client_id": "https://other.example/c.json", "redirect_uris": []string{"https://x.example/cb"}}}},
		"no publisher": []map[string]any{{"client_id": own, "name": "A", "source": "C",
			"document": map[string]any{"client_id": own, "redirect_uris": []string{"https://x.example/cb"}}}},
		"http client_id": []map[string]any{{"client_id": "http://apps.example.com/c.json", "name": "A", "publisher": "B", "source": "C",
			"document": map[string]any{"client_id": "http://apps.example.com/c.json", "redirect_uris": []string{"https://x.example/cb"}}}},
		"not an array": map[string]any{"client_id": own},
		"unknown step_up": []map[string]any{{"client_id": own, "name": "A", "publisher": "B", "source": "C", "step_up": "popup",
			"document": map[string]any{"client_id": own, "redirect_uris": []string{"https://x.example/cb"}}}},
	} {
		if _, err := LoadKnown(write(entries)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := LoadKnown(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file is accepted")
	}
}

// TestResolvePinned: a pinned client never reaches the network, shows the
// catalog's name, and is written to Hydra and the database only when its
// pinned copy changes.
func TestResolvePinned(t *testing.T) {
	k, err := LoadKnown("")
	if err != nil {
		t.Fatal(err)
	}
	st, hy := &fakeStore{docs: map[string]store.ClientDocument{}}, &fakeHydra{}
	r := &Resolver{
		// Any fetch would fail: no CA is trusted, and a millisecond is too short.
		Fetcher:        &Fetcher{Timeout: time.Millisecond, RootCAs: x509.NewCertPool()},
		Known:          k,
		Store:          st,
		Hydra:          hy,
		MCPResourceURL: "http://localhost:8080/mcp",
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for i := range 3 {
		id, err := r.Resolve(t.Context(), claudeCode, "http://localhost:61030/callback")
		if err != nil || id != HydraID(claudeCode) {
			t.Fatalf("resolve %d: %q, %v", i, id, err)
		}
	}
	if len(hy.puts) != 1 || hy.puts[0].GetClientName() != "Claude Code" {
		t.Fatalf("Hydra writes %d (want 1), name %q", len(hy.puts), hy.puts[0].GetClientName())
	}
	// Hydra sees localhost in its stand-in form (package loopback).
	if got := strings.Join(hy.puts[0].RedirectUris, " "); got != "http://127.82.52.1/callback http://127.0.0.1/callback" {
		t.Errorf("Hydra redirect URIs %s", got)
	}
	var ce *Error
	if _, err := r.Resolve(t.Context(), claudeCode, "http://localhost:61030/elsewhere"); !errors.As(err, &ce) {
		t.Errorf("an unlisted redirect: %v", err)
	}

	// The operator replaces the pinned copy: mirrored again once.
	c, _ := k.Lookup(claudeCode)
	c.Name = "Claude Code (pinned by us)"
	k.clients[claudeCode] = c
	if _, err := r.Resolve(t.Context(), claudeCode, ""); err != nil || len(hy.puts) != 2 || hy.puts[1].GetClientName() != c.Name {
		t.Fatalf("changed pin: %v, writes %d", err, len(hy.puts))
	}
}

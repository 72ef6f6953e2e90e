package e2e

import (
	"strings"
	"testing"
)

// TestKnownClientsPinned: the clients people use connect with no network —
// this machine cannot reach claude.ai or chatgpt.com, so the consent app
// must take their documents from its pinned catalog. The consent page names
// a pinned client and its publisher; a client that registered itself under
// the same name stays marked unverified, without a publisher.
func TestKnownClientsPinned(t *testing.T) {
	for _, tc := range []struct{ clientID, redirect, name, publisher string }{
		// What the binaries send (Claude Code 2.1.328, Codex CLI 0.169.0).
		{"https://claude.ai/oauth/claude-code-client-metadata", "http://localhost:61040/callback", "Claude Code", "Anthropic"},
		{"https://chatgpt.com/oauth/codex/client.json", "http://127.0.0.1:50140/callback", "Codex", "OpenAI"},
		{"https://claude.ai/oauth/mcp-oauth-client-metadata", "https://claude.ai/api/mcp/auth_callback", "Claude", "Anthropic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := loopbackLoginPage(t, tc.clientID, tc.redirect, func(page string) {
				if !strings.Contains(page, `id="client-name">`+tc.name+`<`) || !strings.Contains(page, "Made by "+tc.publisher) {
					t.Errorf("the consent page does not name %s by %s: %.2000s", tc.name, tc.publisher, page)
				}
			})
			if r := rawCall(t, "Bearer "+tok.AccessToken); r.StatusCode != 200 {
				t.Fatalf("tools/call: HTTP %d", r.StatusCode)
			}
		})
	}

	t.Run("self-registered look-alike", func(t *testing.T) {
		impostor := registerLoopbackClientNamed(t, "Claude Code", []string{"http://localhost/callback"})
		loopbackLoginPage(t, impostor, "http://localhost:61041/callback", func(page string) {
			if strings.Contains(page, "Anthropic") || !strings.Contains(page, "badge-unverified") {
				t.Errorf("a self-registered \"Claude Code\" is presented as the real one: %.2000s", page)
			}
		})
	})
}

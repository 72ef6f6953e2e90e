package e2e

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/mcp-oauth/catalog/demo"
)

// sdkEvent is a line of e2e/node/ts-sdk-client.mjs.
type sdkEvent struct {
	Event               string `json:"event"`
	URL                 string `json:"url"`
	Result              whoami `json:"result"`
	AccessTokenChanged  bool   `json:"accessTokenChanged"`
	RefreshTokenChanged bool   `json:"refreshTokenChanged"`
}

func nextEvent(t *testing.T, p *nodeProcess) sdkEvent {
	t.Helper()
	line := p.line(t, p.stdout, "an event from the TypeScript SDK client")
	t.Logf("client: %.300s", line)
	var ev sdkEvent
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("client printed %q: %v", line, err)
	}
	return ev
}

func expectEvent(t *testing.T, p *nodeProcess, name string) sdkEvent {
	t.Helper()
	ev := nextEvent(t, p)
	if ev.Event != name {
		t.Fatalf("client event %q, want %q", ev.Event, name)
	}
	return ev
}

// TestTypeScriptSDKClient runs the MCP TypeScript SDK's own client and OAuth
// provider machinery — the stack Claude Code, Cursor, VS Code and MCP
// Inspector are built on: discovery, registration, PKCE with `resource`,
// sign-in and consent through the real pages, a tool call, a refresh, and a
// second run that reuses the stored tokens without signing in again.
func TestTypeScriptSDKClient(t *testing.T) {
	state := filepath.Join(t.TempDir(), "client-state.json")
	const redirect = "http://127.0.0.1:53691/callback" // the test carries the redirect to the client
	p := startNode(t, []string{"E2E_REFRESH=1"}, "ts-sdk-client.mjs", st.MCPURL, state, redirect)

	authURL, err := url.Parse(expectEvent(t, p, "authorize").URL)
	if err != nil {
		t.Fatal(err)
	}
	q := authURL.Query()
	if q.Get("resource") != st.MCPURL || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		t.Fatalf("authorization request %s lacks resource or S256 PKCE", authURL)
	}
	a, err := approve(authURL.String(), as(alice, demo.Acme.Name))
	if err != nil {
		t.Fatal(err)
	}
	p.send(t, map[string]string{"callback": a.redirect.String()})

	first := expectEvent(t, p, "whoami").Result
	if first.Team.Slug != "acme" || first.User.Email != alice.email {
		t.Fatalf("whoami = %+v", first)
	}
	refreshed := expectEvent(t, p, "refreshed")
	if !refreshed.AccessTokenChanged || !refreshed.RefreshTokenChanged {
		t.Errorf("refresh: access token changed %t, refresh token changed %t; want both rotated",
			refreshed.AccessTokenChanged, refreshed.RefreshTokenChanged)
	}
	if again := expectEvent(t, p, "whoami").Result; again.ConnectionID != first.ConnectionID {
		t.Errorf("after refresh whoami = %+v, want connection %s", again, first.ConnectionID)
	}
	expectEvent(t, p, "done")
	p.wait(t)

	// A second run with the stored state connects without a sign-in.
	p = startNode(t, nil, "ts-sdk-client.mjs", st.MCPURL, state, redirect)
	ev := nextEvent(t, p)
	if ev.Event != "whoami" || ev.Result.ConnectionID != first.ConnectionID {
		t.Fatalf("second run: %+v, want whoami on connection %s without authorizing", ev, first.ConnectionID)
	}
	expectEvent(t, p, "done")
	p.wait(t)
}

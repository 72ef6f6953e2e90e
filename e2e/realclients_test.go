package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/stack"
)

// The real CLI clients, pinned in e2e/node/package.json and installed there
// by scripts/test (npm ci): each logs in through the stack's sign-in and
// consent pages as a person would, and the token it stored then calls tools.
// What each binary does was observed on the pinned versions (Claude Code
// 2.1.328, Codex CLI 0.169.0, Gemini CLI 0.61.0); the comments say where a
// test relies on it.

// cliStep bounds one step of a CLI: printing the authorization URL,
// finishing the login after the redirect, one short command.
const cliStep = 30 * time.Second

// realClient is what a CLI is known to present.
type realClient struct {
	name string
	// clientID is its Client ID Metadata Document URL (docs/design.md, quirk
	// 15: Claude Code and Codex pick that path because the issuer's metadata
	// says client_id_metadata_document_supported, and the consent app's
	// pinned catalog answers for them with no network); "" for a client that
	// registers itself (RFC 7591).
	clientID string
	// publisher is whom the consent page names as its maker, for a pinned
	// client.
	publisher string
	// The redirect goes to http://loopbackHost:<ephemeral port>callbackPath.
	loopbackHost, callbackPath string
}

var (
	claudeCode = realClient{name: "Claude Code", clientID: "https://claude.ai/oauth/claude-code-client-metadata", publisher: "Anthropic",
		loopbackHost: "localhost", callbackPath: "/callback"}
	codexCLI = realClient{name: "Codex", clientID: "https://chatgpt.com/oauth/codex/client.json", publisher: "OpenAI",
		loopbackHost: "127.0.0.1", callbackPath: "/callback"}
	// Gemini CLI 0.61.0 registers itself at every `/mcp auth`.
	geminiCLI = realClient{name: "Gemini CLI", loopbackHost: "localhost", callbackPath: "/oauth/callback"}
)

// TestClaudeCode: `claude mcp add`, then `claude mcp login --no-browser`
// under a pty. The person approves in Chromium, which cannot load the
// callback (as when the browser runs on another computer, what
// --no-browser is for), and pastes the address into the terminal. Then
// `claude mcp get` connects, and Claude Code's stored token calls tools.
func TestClaudeCode(t *testing.T) {
	claude := nodeBin(t, "claude")
	home := t.TempDir()
	env := claudeCodeEnv(home)
	// --scope user: ~/.claude.json's top-level mcpServers, whatever the
	// working directory (the default, local, keys it by project path).
	runCLI(t, home, env, claude, "mcp", "add", "--scope", "user", "--transport", "http", "acme", st.MCPURL)

	login := startTerminal(t, home, env, claude, "mcp", "login", "acme", "--no-browser")
	// 2.1.328 prints "Visit this URL to authorize:", the URL (plain, and as
	// an OSC 8 hyperlink), then "Or paste the redirect URL here:". It also
	// listens on the redirect's port, which the browser here never reaches.
	req := authRequest(t, login.expect(authURLPattern(), cliStep)[0])
	login.expect(regexp.MustCompile(`paste the redirect URL here`), cliStep)
	req.check(t, claudeCode)

	redirect := approveInChromium(t, req, claudeCode, as(alice, demo.Acme.Name))
	req.checkResponse(t, redirect)
	login.typeLine(redirect.String())
	login.expect(regexp.MustCompile(`Authenticated with "acme"`), cliStep)
	login.wait(cliStep)

	// `mcp get` connects with the stored token (initialize) and reports it.
	// Before the login it says "Status: ! Needs authentication".
	if out := runCLI(t, home, env, claude, "mcp", "get", "acme"); !regexp.MustCompile(`Status: \S+ Connected`).MatchString(out) {
		t.Errorf("claude mcp get acme after the login:\n%s", out)
	}
	assertStored(t, claudeCodeToken(t, home, "acme"), req)
}

// TestCodex logs Codex in both ways a person does: `codex mcp add`, which
// starts the login at once when the server asks for OAuth, and `codex mcp
// login --no-browser` for a server already configured. Either way the
// browser's redirect reaches Codex's own loopback listener.
func TestCodex(t *testing.T) {
	codex := nodeBin(t, "codex")
	t.Run("mcp add", func(t *testing.T) {
		home := codexHome(t, "")
		// 0.169.0: `mcp add --url` writes [mcp_servers.acme], probes the URL,
		// prints "Detected OAuth support. Starting OAuth flow…" on the 401
		// and runs the login (it opens $BROWSER, a no-op here).
		codexLogin(t, home, startTerminal(t, home, codexEnv(home), codex, "mcp", "add", "acme", "--url", st.MCPURL))
	})
	t.Run("mcp login --no-browser", func(t *testing.T) {
		// The table `mcp add` writes (0.169.0), without its login.
		home := codexHome(t, "[mcp_servers.acme]\nurl = "+strconv.Quote(st.MCPURL)+"\n")
		codexLogin(t, home, startTerminal(t, home, codexEnv(home), codex, "mcp", "login", "acme", "--no-browser"))
	})
}

// approveAs checks the authorization request c sent, approves it in the
// scripted browser as p, and checks the consent page and the answer.
func (req *authorizationRequest) approveAs(t *testing.T, c realClient, p person) *approval {
	t.Helper()
	req.check(t, c)
	a, err := approve(req.url, p)
	if err != nil {
		t.Fatal(err)
	}
	checkConsentPage(t, a.consentPage, c)
	req.checkResponse(t, a.redirect)
	return a
}

// codexLogin plays the person for a Codex login running in term, then checks
// what Codex stored.
func codexLogin(t *testing.T, home string, term *terminal) {
	req := authRequest(t, term.expect(authURLPattern(), cliStep)[0])
	a := req.approveAs(t, codexCLI, as(alice, demo.Acme.Name))
	// The browser follows the redirect to Codex's listener on the
	// redirect's port (0.169.0 listens there in both commands).
	deliver(t, a.redirect)
	term.expect(regexp.MustCompile(`Successfully logged in`), cliStep)
	term.wait(cliStep)

	// `mcp list` reads the stored credentials: "OAuth" in its Auth column,
	// "Not logged in" before.
	codex := nodeBin(t, "codex")
	if out := runCLI(t, home, codexEnv(home), codex, "mcp", "list"); !regexp.MustCompile(`(?m)^acme\s.*\bOAuth\s*$`).MatchString(out) {
		t.Errorf("codex mcp list after the login:\n%s", out)
	}
	assertStored(t, codexToken(t, home, "acme"), req)
}

// deliver is the browser following the authorization response to the CLI's
// own loopback listener.
func deliver(t *testing.T, redirect *url.URL) {
	t.Helper()
	resp, err := (&http.Client{Timeout: cliStep}).Get(redirect.String())
	if err != nil {
		t.Fatalf("the CLI's callback listener: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the CLI's callback listener answered HTTP %d", resp.StatusCode)
	}
}

// checkConsentPage: the consent page names a pinned client and its
// publisher, and marks a self-registered one unverified.
func checkConsentPage(t *testing.T, page string, c realClient) {
	t.Helper()
	if c.publisher == "" {
		if !strings.Contains(page, "badge-unverified") || strings.Contains(page, `id="known-client"`) {
			t.Errorf("the consent page presents the self-registered %s as verified: %.2000s", c.name, page)
		}
		return
	}
	if !strings.Contains(page, `id="client-name">`+c.name+`<`) || !strings.Contains(page, "Made by "+c.publisher+".") {
		t.Errorf("the consent page does not name %s by %s: %.2000s", c.name, c.publisher, page)
	}
}

// TestGeminiCLI: Gemini CLI has no login subcommand; its MCP OAuth runs in
// the interactive CLI as `/mcp auth <name>`, a local command that needs no
// model, so a dummy API key gets the CLI started offline. It registers
// itself (0.61.0 does not use metadata documents although the issuer offers
// them) and opens $BROWSER, here a script that writes the URL down; the
// redirect reaches its own listener.
func TestGeminiCLI(t *testing.T) {
	gemini := nodeBin(t, "gemini")
	home := geminiHome(t)
	env := geminiEnv(home)
	// 0.61.0: --transport http writes "type": "http" (a bare url would mean
	// SSE); --scope user puts it in ~/.gemini/settings.json.
	runCLI(t, home, env, gemini, "mcp", "add", "--scope", "user", "--transport", "http", "acme", st.MCPURL)

	cli := startTerminal(t, home, env, gemini)
	// 0.61.0 on start: "[MCP info] MCP server 'acme' requires authentication
	// using: /mcp auth acme", then the prompt. The slash command is typed,
	// shown, then entered; it asks before opening the browser (Enter: Yes).
	cli.expect(regexp.MustCompile(`Type your message`), cliStep)
	cli.send("/mcp auth acme")
	cli.expect(regexp.MustCompile(`> /mcp auth acme`), cliStep)
	cli.send("\r")
	cli.expect(regexp.MustCompile(`Do you want to continue\?`), cliStep)
	cli.send("\r")

	req := authRequest(t, waitForLine(t, filepath.Join(home, "browser-opened"), cliStep))
	a := req.approveAs(t, geminiCLI, as(alice, demo.Acme.Name))
	deliver(t, a.redirect)
	cli.expect(regexp.MustCompile(`Successfully authenticated and reloaded tools for 'acme'`), cliStep)

	// Gemini itself lists the tools with its token.
	cli.send("/mcp list")
	cli.expect(regexp.MustCompile(`> /mcp list`), cliStep)
	cli.send("\r")
	cli.expect(regexp.MustCompile(`acme - Ready \(\d+ tools\) \(OAuth\)`), cliStep)
	assertStored(t, geminiToken(t, home, "acme"), req)
}

// storedToken is what a CLI kept after its login.
type storedToken struct {
	ClientID, AccessToken, RefreshToken string
}

// assertStored: the CLI stored tokens for the client_id it authorized as, a
// refresh token among them (it asked for offline_access), and its access
// token is alice's connection into Acme, of that client, that sees Acme's
// invoices only.
func assertStored(t *testing.T, tok storedToken, req *authorizationRequest) {
	t.Helper()
	clientID := req.query.Get("client_id")
	if tok.ClientID != clientID || tok.RefreshToken == "" {
		t.Errorf("stored client_id %q, refresh token %t; want %s and a refresh token", tok.ClientID, tok.RefreshToken != "", clientID)
	}
	s, err := sessionWithToken(t, tok.AccessToken)
	if err != nil {
		t.Fatalf("MCP session with the stored access token: %v", err)
	}
	var me whoami
	callTool(t, s, "whoami", nil, &me)
	if me.User.Email != alice.email || me.Team.Slug != "acme" {
		t.Fatalf("whoami = %+v, want alice in Acme Corp", me)
	}
	if want := hydraClient(t, clientID); me.ClientID != want {
		t.Errorf("whoami client %q, want %q, the Hydra client of %s", me.ClientID, want, clientID)
	}
	assertInvoices(t, &connection{session: s}, "ACME-")
}

// hydraClient is the Hydra client id behind a client_id: itself for a
// registered client, the one standing for a metadata document's URL
// (docs/design.md, quirk 14).
func hydraClient(t *testing.T, clientID string) string {
	t.Helper()
	if !strings.HasPrefix(clientID, "https://") {
		return clientID
	}
	var mapped string
	queryRow(t, `SELECT hydra_client_id FROM client_metadata_documents WHERE url = $1`, []any{clientID}, &mapped)
	return mapped
}

// authorizationRequest is an authorization URL a CLI printed.
type authorizationRequest struct {
	url         string
	query       url.Values
	redirectURI *url.URL
}

// authURLPattern matches an authorization URL at the issuer in a CLI's
// output (escape sequences removed).
func authURLPattern() *regexp.Regexp {
	return regexp.MustCompile(regexp.QuoteMeta(st.IssuerURL+"/oauth2/auth?") + `\S+`)
}

func authRequest(t *testing.T, raw string) *authorizationRequest {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("authorization URL %q: %v", raw, err)
	}
	redirect, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil {
		t.Fatalf("redirect_uri in %s: %v", raw, err)
	}
	t.Logf("authorization request: %s", raw)
	return &authorizationRequest{url: raw, query: u.Query(), redirectURI: redirect}
}

// check compares the request with what the CLI is known to send: its
// client_id and loopback redirect, PKCE S256, the MCP URL as resource, and
// invoices:read with offline_access, which all three ask for because the
// issuer's metadata lists it.
func (r *authorizationRequest) check(t *testing.T, c realClient) {
	t.Helper()
	q := r.query
	switch got := q.Get("client_id"); {
	case c.clientID != "" && got != c.clientID:
		t.Errorf("client_id %q, want %q", got, c.clientID)
	case c.clientID == "" && (got == "" || strings.HasPrefix(got, "https://")):
		t.Errorf("client_id %q, want the one the client registered", got)
	}
	if r.redirectURI.Scheme != "http" || r.redirectURI.Hostname() != c.loopbackHost || r.redirectURI.Port() == "" || r.redirectURI.Path != c.callbackPath {
		t.Errorf("redirect_uri %s, want http://%s:<port>%s", r.redirectURI, c.loopbackHost, c.callbackPath)
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		t.Errorf("PKCE %q/%q, state %q: want S256 with a challenge and a state", q.Get("code_challenge_method"), q.Get("code_challenge"), q.Get("state"))
	}
	if got := q.Get("resource"); got != st.MCPURL {
		t.Errorf("resource %q, want %q", got, st.MCPURL)
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, want := range []string{"invoices:read", "offline_access"} {
		if !slices.Contains(scopes, want) {
			t.Errorf("scope %q lacks %s", q.Get("scope"), want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// checkResponse: the authorization response goes to the redirect URI with a
// code, the request's state and the issuer (RFC 9207).
func (r *authorizationRequest) checkResponse(t *testing.T, redirect *url.URL) {
	t.Helper()
	q := redirect.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("authorization refused: %s: %s", e, q.Get("error_description"))
	}
	at := redirect.Scheme + "://" + redirect.Host + redirect.Path
	if want := r.redirectURI.String(); at != want || q.Get("code") == "" || q.Get("state") != r.query.Get("state") || q.Get("iss") != st.IssuerURL {
		t.Fatalf("authorization response %s: want %s with a code, state %s and iss %s", redirect, want, r.query.Get("state"), st.IssuerURL)
	}
}

// approveInChromium signs p in and approves in Chromium, and returns the
// authorization response without delivering it: the browser's request to
// the callback fails as if nothing listened there, as when the browser runs
// on another computer than the CLI (what --no-browser is for), so the
// address is all the person has, to copy.
func approveInChromium(t *testing.T, req *authorizationRequest, client realClient, p person) *url.URL {
	t.Helper()
	c := newChrome(t, "en-US,en;q=0.9")
	paused := make(chan *fetch.EventRequestPaused, 1)
	if err := chromedp.Listen(c.ctx, func(ev any) {
		if e, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case paused <- e:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	origin := req.redirectURI.Scheme + "://" + req.redirectURI.Host
	if _, err := chromedp.Call(c.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: origin + "/*"}}}); err != nil {
		t.Fatal(err)
	}
	wantPage(t, c.open(req.url), http.StatusOK, "/login")
	wantPage(t, c.signIn(p, false), http.StatusOK, "/consent")
	if name, known := c.text("#client-name"), c.text("#known-client"); name != client.name || !strings.HasPrefix(known, "Made by "+client.publisher+".") {
		t.Errorf("the consent page names %q (%q), want %s by %s", name, known, client.name, client.publisher)
	}
	c.chooseTeam(p.team)
	// No page to wait for after Allow: the navigation stops at the callback.
	c.do(chromedp.Click(chromedp.CSS(`button[value=allow]`)))
	select {
	case e := <-paused:
		if _, err := chromedp.Call(c.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonConnectionRefused}); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(e.Request.URL)
		if err != nil {
			t.Fatal(err)
		}
		return u
	case <-time.After(stepTimeout):
		t.Fatalf("after Allow the browser did not go to %s (at %s)", origin, c.location())
	}
	return nil
}

// nodeBin is the path of a CLI that npm installed in e2e/node.
func nodeBin(t *testing.T, name string) string {
	t.Helper()
	root, err := stack.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "e2e", "node", "node_modules", ".bin", name)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is not installed: run `npm ci` in e2e/node (scripts/test does): %v", name, err)
	}
	return bin
}

// cliEnv is a minimal environment for a CLI with its own home, so that
// nothing of the machine's own configuration or credentials reaches it.
// BROWSER=true makes "open the browser" a no-op for both CLIs (both honour
// it; Codex 0.169.0 otherwise started Chromium here). PATH stays: codex is
// a Node script.
func cliEnv(home string, extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm-256color", "LANG=C.UTF-8",
		"TMPDIR=" + os.TempDir(), "BROWSER=true",
	}, extra...)
}

// claudeCodeEnv keeps Claude Code offline: without these, 2.1.328 looked up
// api.anthropic.com even for `mcp add` (strace); with them it connected to
// the stack only.
func claudeCodeEnv(home string) []string {
	return cliEnv(home,
		"DISABLE_AUTOUPDATER=1",
		"CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_TELEMETRY=1",
		"DISABLE_ERROR_REPORTING=1",
	)
}

// codexEnv: Codex 0.169.0's `mcp` commands connected to the stack only
// (strace), so nothing more is needed offline.
func codexEnv(home string) []string {
	return cliEnv(home, "CODEX_HOME="+filepath.Join(home, ".codex"))
}

// codexHome makes a home with $CODEX_HOME/config.toml. The file store keeps
// the tokens in $CODEX_HOME/.credentials.json: under "auto" (the default)
// Codex tries the system keyring first, and Linux's kernel keyring would
// keep them beyond the test.
func codexHome(t *testing.T, config string) string {
	t.Helper()
	home := t.TempDir()
	dir := filepath.Join(home, ".codex")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	config = "mcp_oauth_credentials_store = \"file\"\n\n" + config
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// geminiEnv: a dummy GEMINI_API_KEY gets 0.61.0 past its sign-in dialog (it
// is never used: no prompt goes to a model); GEMINI_CLI_TRUST_WORKSPACE
// trusts the folder, without which MCP servers are disabled; BROWSER
// appends the URL to ~/browser-opened.
func geminiEnv(home string) []string {
	return cliEnv(home,
		"GEMINI_API_KEY=unused-offline",
		"GEMINI_CLI_TRUST_WORKSPACE=true",
		"BROWSER="+filepath.Join(home, "open-browser"),
	)
}

// geminiHome makes a home with ~/.gemini/settings.json and the BROWSER
// script. The settings choose the API key sign-in and keep 0.61.0 offline:
// without them it looked up registry.npmjs.org for updates (strace); with
// them it connected to the stack only.
func geminiHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	settings := `{
  "security": {"auth": {"selectedType": "gemini-api-key"}},
  "privacy": {"usageStatisticsEnabled": false},
  "general": {"enableAutoUpdate": false, "enableAutoUpdateNotification": false}
}`
	if err := os.MkdirAll(filepath.Join(home, ".gemini"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".gemini", "settings.json"), []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \"$HOME/browser-opened\"\n"
	if err := os.WriteFile(filepath.Join(home, "open-browser"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return home
}

// waitForLine waits for the first line of the file at path.
func waitForLine(t *testing.T, path string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if b, err := os.ReadFile(path); err == nil {
			if line, _, ok := strings.Cut(string(b), "\n"); ok {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing written to %s within %s", path, within)
		}
		time.Sleep(pollEvery)
	}
}

// runCLI runs a short CLI command and returns its output; it fails the test
// when the command fails or takes longer than cliStep.
func runCLI(t *testing.T, dir string, env []string, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cliStep)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	t.Logf("%s:\n%s", cmd, out)
	return string(out)
}

// claudeCodeToken reads the token Claude Code stored for server. 2.1.328
// keeps MCP OAuth state in $HOME/.claude/.credentials.json under mcpOAuth,
// keyed "<name>|<hash>", written already when the login starts (client_id,
// redirectUri) and completed with the tokens.
func claudeCodeToken(t *testing.T, home, server string) storedToken {
	t.Helper()
	var creds struct {
		MCPOAuth map[string]struct {
			ServerName   string `json:"serverName"`
			ServerURL    string `json:"serverUrl"`
			ClientID     string `json:"clientId"`
			AccessToken  string `json:"accessToken"`
			RefreshToken string `json:"refreshToken"`
		} `json:"mcpOAuth"`
	}
	readJSONFile(t, filepath.Join(home, ".claude", ".credentials.json"), &creds)
	for _, e := range creds.MCPOAuth {
		if e.ServerName == server && e.ServerURL == st.MCPURL && e.AccessToken != "" {
			return storedToken{ClientID: e.ClientID, AccessToken: e.AccessToken, RefreshToken: e.RefreshToken}
		}
	}
	t.Fatalf("no access token for %s (%s) in Claude Code's credentials", server, st.MCPURL)
	return storedToken{}
}

// codexToken reads the token Codex stored for server. 0.169.0's file store,
// $CODEX_HOME/.credentials.json, keys one flat entry per server
// "<name>|<hash>": server_name, server_url, issuer, client_id,
// access_token, refresh_token, expires_at, scopes.
func codexToken(t *testing.T, home, server string) storedToken {
	t.Helper()
	var creds map[string]struct {
		ServerName   string `json:"server_name"`
		ServerURL    string `json:"server_url"`
		ClientID     string `json:"client_id"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	readJSONFile(t, filepath.Join(home, ".codex", ".credentials.json"), &creds)
	for _, e := range creds {
		if e.ServerName == server && e.ServerURL == st.MCPURL && e.AccessToken != "" {
			return storedToken{ClientID: e.ClientID, AccessToken: e.AccessToken, RefreshToken: e.RefreshToken}
		}
	}
	t.Fatalf("no access token for %s (%s) in Codex's credentials", server, st.MCPURL)
	return storedToken{}
}

func readJSONFile(t *testing.T, path string, out any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// geminiToken reads the token Gemini CLI stored for server. 0.61.0 keeps MCP
// OAuth tokens as a JSON array in ~/.gemini/mcp-oauth-tokens.json (mode
// 0600; an encrypted file only with GEMINI_FORCE_ENCRYPTED_FILE_STORAGE).
func geminiToken(t *testing.T, home, server string) storedToken {
	t.Helper()
	var creds []struct {
		ServerName   string `json:"serverName"`
		MCPServerURL string `json:"mcpServerUrl"`
		ClientID     string `json:"clientId"`
		Token        struct {
			AccessToken  string `json:"accessToken"`
			RefreshToken string `json:"refreshToken"`
		} `json:"token"`
	}
	readJSONFile(t, filepath.Join(home, ".gemini", "mcp-oauth-tokens.json"), &creds)
	for _, e := range creds {
		if e.ServerName == server && e.MCPServerURL == st.MCPURL && e.Token.AccessToken != "" {
			return storedToken{ClientID: e.ClientID, AccessToken: e.Token.AccessToken, RefreshToken: e.Token.RefreshToken}
		}
	}
	t.Fatalf("no access token for %s (%s) in Gemini CLI's credentials", server, st.MCPURL)
	return storedToken{}
}

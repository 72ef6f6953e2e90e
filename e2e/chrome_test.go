package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/mcp-oauth/catalog"
	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcp-oauth/e2e/stack"
)

// chrome is one headless Chromium (Debian's chromium package) with a fresh
// profile, driven over the DevTools protocol.
type chrome struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string // console errors: CSP violations, failed assets
}

// stepTimeout bounds one browser step (a navigation, a click and its page).
const stepTimeout = 30 * time.Second

// newChrome starts Chromium; pages get acceptLanguage as Accept-Language.
// The browser runs as root in CI, hence --no-sandbox; chromedp gives it a
// fresh temporary user-data-dir and removes it afterwards.
func newChrome(t *testing.T, acceptLanguage string) *chrome {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the browser tests need Debian's chromium (apt-get install -y chromium; scripts/test and .ci/run install it): %v", err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.WindowSize(760, 640),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	c := &chrome{t: t, ctx: ctx}
	// The first action starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, c.watch); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": acceptLanguage},
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, p := range c.problems {
			t.Errorf("browser console: %s", p)
		}
	})
	return c
}

// watch records console errors other than HTTP error statuses, which the
// tests expect (401, 429) and check themselves.
func (c *chrome) watch(ev any) {
	if e, ok := ev.(*log.EventEntryAdded); ok && e.Entry.Level == log.EntryLevelError && e.Entry.Source != log.EntrySourceNetwork {
		c.mu.Lock()
		c.problems = append(c.problems, fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
		c.mu.Unlock()
	}
}

func (c *chrome) step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.ctx, stepTimeout)
}

// do runs steps that do not navigate.
func (c *chrome) do(steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := c.step()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		c.t.Fatalf("browser: %v (at %s)", err, c.location())
	}
}

// open loads u and returns the final response, after redirects.
func (c *chrome) open(u string) *network.Response {
	c.t.Helper()
	return c.navigate(chromedp.Navigate(u))
}

// click clicks sel and waits for the page it leads to.
func (c *chrome) click(sel string) *network.Response {
	c.t.Helper()
	return c.navigate(chromedp.Click(chromedp.CSS(sel)))
}

func (c *chrome) navigate(a chromedp.Action[chromedp.Void]) *network.Response {
	c.t.Helper()
	ctx, cancel := c.step()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, a)
	if err != nil {
		c.t.Fatalf("browser: %v (at %s)", err, c.location())
	}
	return resp
}

// text is the visible text of the first element matching sel.
func (c *chrome) text(sel string) string {
	c.t.Helper()
	ctx, cancel := c.step()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v (at %s)", sel, err, c.location())
	}
	return strings.TrimSpace(s)
}

// count is how many elements match sel now (no waiting).
func (c *chrome) count(sel string) int {
	c.t.Helper()
	return evaluate[int](c, fmt.Sprintf("document.querySelectorAll(%q).length", sel))
}

func evaluate[T any](c *chrome, expr string) T {
	c.t.Helper()
	ctx, cancel := c.step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		c.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (c *chrome) location() string {
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

// cookie returns the issuer's cookie called name, nil if there is none.
func (c *chrome) cookie(name string) *network.Cookie {
	c.t.Helper()
	ctx, cancel := c.step()
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{st.IssuerURL + "/"}})
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range res.Cookies {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// updateScreenshots asks the browser tests to rewrite the README's pictures:
// cd e2e && go test -run TestBrowser -update .
var updateScreenshots = flag.Bool("update", false, "rewrite docs/screenshots from this run's pages")

// screenshot takes the whole page as a picture; with -update it is saved as
// docs/screenshots/<name>.png, for the README, and otherwise in the test's
// own folder, so that a test run leaves the tree as it was.
func (c *chrome) screenshot(name string) {
	c.t.Helper()
	ctx, cancel := c.step()
	defer cancel()
	// No blinking caret in the picture.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`)); err != nil {
		c.t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := c.t.TempDir()
	if *updateScreenshots {
		root, err := stack.FindRepoRoot("")
		if err != nil {
			c.t.Fatal(err)
		}
		dir = filepath.Join(root, "docs", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// callback is the client's redirect URI: a loopback server, as a desktop MCP
// client runs, that hands the authorization response to the waiting flow.
type callback struct {
	srv *httptest.Server
	got chan url.Values
}

func newCallback(t *testing.T) *callback {
	cb := &callback{got: make(chan url.Values, 1)}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case cb.got <- r.URL.Query():
		default: // a reload; the flow has its answer
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>Done</title><p id="done">You can close this window.</p>`)
	}))
	t.Cleanup(cb.srv.Close)
	return cb
}

func (cb *callback) url() string { return cb.srv.URL + "/callback" }

// flow is one MCP client connecting in the background while the test plays
// the person in the browser: the go-sdk registers the client, hands over the
// authorization URL, waits for the redirect to reach the callback, exchanges
// the code and opens a session.
type flow struct {
	authURL chan string
	done    chan flowResult

	mu     sync.Mutex
	asked  bool
	answer error // the person's refusal, given again if the client asks again
}

type flowResult struct {
	conn *connection
	err  error
}

// startFlow starts a client named "Demo Assistant" that redirects to cb.
func startFlow(t *testing.T, cb *callback) *flow {
	f := &flow{authURL: make(chan string, 1), done: make(chan flowResult, 1)}
	fetch := func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		// The person answers once. After a denial the go-sdk asks again
		// before it gives up; the answer stays the same.
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.asked {
			if f.answer == nil {
				f.answer = errors.New("the person already authorized this client once")
			}
			return nil, f.answer
		}
		f.asked = true
		f.authURL <- args.URL
		select {
		case q := <-cb.got:
			if e := q.Get("error"); e != "" {
				f.answer = &authorizationError{Code: e, Description: q.Get("error_description")}
				return nil, f.answer
			}
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ctx := t.Context()
	go func() {
		// Every scope, so that the consent page shows reads and writes (the
		// MCP server itself suggests only its read baseline).
		conn, err := mcpConnect(ctx, "Demo Assistant", cb.url(), fetch, connectOptions{scopeFilter: askFor(catalog.Names()...)})
		if err == nil && ctx.Err() != nil {
			conn.session.Close() // the test is over
		}
		f.done <- flowResult{conn, err}
	}()
	return f
}

// url waits for the authorization URL the client wants opened.
func (f *flow) url(t *testing.T) string {
	t.Helper()
	select {
	case u := <-f.authURL:
		return u
	case r := <-f.done:
		t.Fatalf("the client stopped before authorizing: %v", r.err)
	case <-time.After(stepTimeout):
		t.Fatal("the client did not start authorizing")
	}
	return ""
}

// result waits for the client to finish; a session it opened is closed when
// the test ends.
func (f *flow) result(t *testing.T) (*connection, error) {
	t.Helper()
	select {
	case r := <-f.done:
		if r.err == nil {
			t.Cleanup(func() { r.conn.session.Close() })
		}
		return r.conn, r.err
	case <-time.After(stepTimeout):
		t.Fatal("the client did not finish")
	}
	return nil, nil
}

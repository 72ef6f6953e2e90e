package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/stack"
)

// TestFaults kills Hydra, restarts PostgreSQL and crashes the consent app in
// the middle of a consent, each under a steady load of MCP calls, on a stack
// of its own with its own PostgreSQL cluster: the shared stack's tests must
// not see these outages. Every answer during a fault is a tool result or a
// 503 with Retry-After — never another 5xx — every service recovers without
// a restart of its own, and no connection or audit row is lost or
// half-granted.
func TestFaults(t *testing.T) {
	logDir, err := os.MkdirTemp("", "e2e-faults-")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	fs, err := stack.Start(t.Context(), stack.Options{
		SeedDemo: true,
		LogDir:   logDir,
		LogLevel: "debug",
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatalf("start the fault stack: %v (logs in %s)", err, logDir)
	}
	t.Cleanup(func() {
		fs.Stop()
		if t.Failed() {
			t.Logf("the fault stack's logs are in %s", logDir)
		} else {
			os.RemoveAll(logDir)
		}
	})
	t.Logf("fault stack with its own PostgreSQL cluster ready in %s", time.Since(started).Round(time.Millisecond))
	k := newKit(t, fs)

	t.Run("hydra killed", func(t *testing.T) { hydraKilled(t, k) })
	t.Run("postgres restarted", func(t *testing.T) { postgresRestarted(t, k) })
	t.Run("consent app crashes mid-consent", func(t *testing.T) { consentAppCrash(t, k) })

	select {
	case err := <-fs.Exited():
		t.Errorf("a server exited on its own: %v", err)
	default:
	}
	// Outages make the servers log errors: none may quote a credential.
	k.checkLogs(t)
}

// rowCounts are the rows that must never be lost.
type rowCounts struct{ connections, audit int }

func (k *kit) rows(t *testing.T) rowCounts {
	t.Helper()
	var c rowCounts
	k.queryRow(t, `SELECT (SELECT count(*) FROM connections), (SELECT count(*) FROM audit_events)`, nil, &c.connections, &c.audit)
	return c
}

// checkRows compares the rows after a fault with those before: newConns
// connections more, and no audit event fewer.
func checkRows(t *testing.T, before, after rowCounts, newConns int) {
	t.Helper()
	if after.connections != before.connections+newConns {
		t.Errorf("connections: %d before, %d after (%d new)", before.connections, after.connections, newConns)
	}
	if after.audit < before.audit {
		t.Errorf("audit events: %d before, %d after", before.audit, after.audit)
	}
}

// checkAudit waits for the audit log to hold an event for every tool call
// of the connection behind token that gave a result — written in batches
// off the request path, and kept through a database outage — and at most
// one for each call that reached the MCP server.
func (k *kit) checkAudit(t *testing.T, token string, answers []mcpAnswer) {
	t.Helper()
	connID, _ := k.introspectExt(t, token)[contract.ClaimConnectionID].(string)
	results, calls := 0, 0
	for _, a := range answers {
		switch {
		case a.cancelled:
			calls++ // the server may have run it
		case a.kind() == "result":
			results++
			calls++
		case a.kind() == "503":
			calls++ // a tool the database failed under is recorded as unavailable
		}
	}
	var n int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		k.queryRow(t, `SELECT count(*) FROM audit_events WHERE connection_id = $1`, []any{connID}, &n)
		if n >= results || time.Now().After(deadline) {
			break
		}
	}
	if n < results || n > calls {
		t.Errorf("audit events of the load's connection: %d for %d results in %d answered calls", n, results, calls)
	}
}

// mcpAnswer is one MCP call of the load.
type mcpAnswer struct {
	at     time.Time
	status int
	body   string
	err    error // the call did not get an HTTP answer
	// cancelled: the load stopped while the call was under way, so its
	// answer is unknown (the tool may have run).
	cancelled bool
}

// kind sorts an answer: a tool result, an outage (503 with Retry-After and
// a JSON error, no result), or anything else, which no fault may cause.
func (a mcpAnswer) kind() string {
	switch {
	case a.err != nil:
		return "no answer"
	case a.status == http.StatusOK && strings.Contains(a.body, `"result"`) && !strings.Contains(a.body, `"isError":true`):
		return "result"
	case a.status == http.StatusServiceUnavailable:
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal([]byte(a.body), &e) == nil && e.Error == "temporarily_unavailable" && !strings.Contains(a.body, `"result"`) {
			return "503"
		}
	}
	return fmt.Sprintf("HTTP %d %.200s", a.status, a.body)
}

// callMCP posts one list_invoices call (which needs the database) with
// token. It does not touch a testing.T, so load goroutines may use it.
func (k *kit) callMCP(ctx context.Context, token string) mcpAnswer {
	req := mcpRequest(ctx, k.st.MCPURL, "Bearer "+token, toolCallBody("list_invoices", map[string]any{"limit": 1}))
	a := mcpAnswer{at: time.Now()}
	resp, err := k.hc.Do(req)
	if err != nil {
		a.err = err
		return a
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a.status, a.body = resp.StatusCode, string(b)
	if a.status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
		a.status = -a.status // a 503 without Retry-After is no proper outage answer
	}
	return a
}

// load is a steady stream of MCP calls: workers goroutines, each calling
// every interval with token, until stop. Bounded and loopback only.
type load struct {
	mu      sync.Mutex
	answers []mcpAnswer
	stop    context.CancelFunc
	done    sync.WaitGroup
}

func (k *kit) startLoad(token string, workers int, interval time.Duration) *load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &load{stop: cancel}
	for range workers {
		l.done.Go(func() {
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for {
				a := k.callMCP(ctx, token)
				a.cancelled = ctx.Err() != nil
				l.mu.Lock()
				l.answers = append(l.answers, a)
				l.mu.Unlock()
				if a.cancelled {
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		})
	}
	return l
}

// finish stops the load and returns every answer it got.
func (l *load) finish() []mcpAnswer {
	l.stop()
	l.done.Wait()
	return l.answers
}

// checkAnswers fails on any answer other than a result or a 503, and
// returns how many of each came during [from, to).
func checkAnswers(t *testing.T, what string, answers []mcpAnswer, from, to time.Time) (results, outages int) {
	t.Helper()
	bad := 0
	for _, a := range answers {
		if a.cancelled {
			continue
		}
		kind := a.kind()
		switch {
		case kind != "result" && kind != "503":
			if bad++; bad <= 5 {
				t.Errorf("%s at %s: %s", what, a.at.Format("15:04:05.000"), kind)
			}
		case a.at.Before(from) || !a.at.Before(to):
		case kind == "result":
			results++
		default:
			outages++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d more answers that were neither a result nor a 503", what, bad-5)
	}
	return results, outages
}

// hydraKilled: Hydra dies (SIGKILL) under load. A token the MCP server has
// not verified gets 503s, never a result; once Hydra is back it works
// within 2s. Tokens verified just before keep working from the
// introspection cache meanwhile, as designed (TestHydraOutage).
func hydraKilled(t *testing.T, k *kit) {
	ctx := t.Context()
	cached := k.token(t, as(alice, demo.Acme.Name), "invoices:read")
	unseen := k.token(t, as(alice, demo.Acme.Name), "invoices:read").AccessToken
	warm := k.callMCP(ctx, cached.AccessToken)
	if warm.kind() != "result" {
		t.Fatalf("before the fault: %s", warm.kind())
	}
	before := k.rows(t)

	steady := k.startLoad(cached.AccessToken, 2, 50*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	// The probe: the unseen token every 50ms. A failed introspection is not
	// cached, so the token stays unseen until Hydra answers for it.
	killed := time.Now()
	if err := k.st.StopServer(stack.Hydra, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	probe := k.startLoad(unseen, 1, 50*time.Millisecond)
	time.Sleep(time.Second)
	restarting := time.Now()
	if err := k.st.StartServer(ctx, stack.Hydra); err != nil {
		t.Fatalf("start Hydra again: %v", err)
	}
	back := time.Now()
	deadline := back.Add(10 * time.Second)
	for !recovered(probe, back) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // some steady calls after recovery
	probed, steadyAnswers := probe.finish(), steady.finish()

	results, outages := checkAnswers(t, "unverified token while Hydra was down", probed, killed, restarting)
	if results > 0 || outages == 0 {
		t.Errorf("unverified token while Hydra was down: %d results, %d 503s; want only 503s", results, outages)
	}
	recovery := time.Duration(-1)
	for _, a := range probed {
		if a.at.After(back) && a.kind() == "result" {
			recovery = a.at.Sub(back)
			break
		}
	}
	cachedResults, cachedOutages := checkAnswers(t, "cached token", steadyAnswers, killed, restarting)
	t.Logf("Hydra down %s, its start %s of it; unverified token: %d 503s, then a result %s after Hydra was ready; cached token meanwhile: %d results, %d 503s; %d calls in all",
		back.Sub(killed).Round(time.Millisecond), back.Sub(restarting).Round(time.Millisecond), outages,
		recovery.Round(time.Millisecond), cachedResults, cachedOutages, len(probed)+len(steadyAnswers))
	if recovery < 0 || recovery > 2*time.Second {
		t.Errorf("the MCP server did not recover within 2s of Hydra returning (%s)", recovery)
	}
	k.checkAudit(t, cached.AccessToken, append(steadyAnswers, warm))
	checkRows(t, before, k.rows(t), 0)
}

// recovered reports whether the probe got a result after back.
func recovered(l *load, back time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.answers {
		if a.at.After(back) && a.kind() == "result" {
			return true
		}
	}
	return false
}

// postgresRestarted: the database restarts (every session ends) under
// load. The MCP server answers 503 meanwhile, never another 5xx; then it,
// the consent app and Hydra serve again without being restarted, and
// nothing that was committed is lost.
func postgresRestarted(t *testing.T, k *kit) {
	ctx := t.Context()
	tok := k.token(t, as(alice, demo.Acme.Name), "invoices:read")
	before := k.rows(t)

	steady := k.startLoad(tok.AccessToken, 2, 50*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	down := time.Now()
	if err := k.st.RestartPostgres(ctx); err != nil {
		t.Fatalf("restart PostgreSQL: %v", err)
	}
	back := time.Now()

	// The whole sign-in, consent and token flow needs the consent app's
	// database, Hydra's and the token hook: retried until it works.
	var fresh *oauth2.Token
	var lastErr error
	attempts := 0
	for deadline := back.Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		attempts++
		if fresh, lastErr = k.tryToken(ctx, k.clientID, as(alice, demo.Acme.Name), "invoices:read"); lastErr == nil {
			break
		}
		// Hydra v2.3 does not check its pooled connections: one the
		// restart cut fails one request, answered invalid_client ("unknown
		// client"). The consent app pings each connection it acquires.
		t.Logf("authorization %d after the restart failed: %.160v", attempts, lastErr)
	}
	flowBack := time.Since(back)
	if lastErr != nil {
		t.Fatalf("no authorization worked within 30s of PostgreSQL's restart: %v", lastErr)
	}
	if a := k.callMCP(ctx, fresh.AccessToken); a.kind() != "result" {
		t.Errorf("the connection made after the restart: %s", a.kind())
	}
	for deadline := time.Now().Add(10 * time.Second); !recovered(steady, back) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	answers := steady.finish()

	_, outages := checkAnswers(t, "MCP call during the restart", answers, down, back)
	mcpBack := time.Duration(-1)
	for _, a := range answers {
		if a.at.After(back) && a.kind() == "result" {
			mcpBack = a.at.Sub(back)
			break
		}
	}
	t.Logf("PostgreSQL restart took %s (MCP calls meanwhile: %d 503s); after it: MCP results again in %s, a whole new authorization in %s (attempt %d); %d calls in all",
		back.Sub(down).Round(time.Millisecond), outages, mcpBack.Round(time.Millisecond), flowBack.Round(time.Millisecond), attempts, len(answers))
	if mcpBack < 0 {
		t.Error("the MCP server did not serve results again after PostgreSQL's restart")
	}
	k.checkAudit(t, tok.AccessToken, answers)
	checkRows(t, before, k.rows(t), 1)
}

// consentAppCrash: the consent app dies while it tells Hydra about an
// approval (Hydra is frozen so that the crash lands inside that call). The
// person's browser gets an error; nothing is granted; once the app is back,
// submitting the same page again completes the connection — exactly one.
func consentAppCrash(t *testing.T, k *kit) {
	ctx := t.Context()
	loadToken := k.token(t, as(alice, demo.Acme.Name), "invoices:read").AccessToken
	steady := k.startLoad(loadToken, 1, 100*time.Millisecond)
	rowsBefore := k.rows(t)
	before := k.connections(t, alice)

	verifier := oauth2.GenerateVerifier()
	b := k.browser(t)
	f := k.consentFormFor(t, b, alice, verifier)
	if err := f.Choose("team_id", demo.Acme.Name); err != nil {
		t.Fatal(err)
	}
	if err := k.st.SignalServer(stack.Hydra, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			if err := k.st.SignalServer(stack.Hydra, syscall.SIGCONT); err != nil {
				t.Errorf("thaw Hydra: %v", err)
			}
		}
	}
	defer thaw()

	submitted := make(chan error, 1)
	go func() {
		_, err := b.Submit(f, "action", "allow")
		submitted <- err
	}()
	select {
	case err := <-submitted:
		t.Fatalf("the approval returned while Hydra was frozen: %v", err)
	case <-time.After(500 * time.Millisecond): // the consent app now waits for Hydra
	}
	if err := k.st.StopServer(stack.ConsentApp, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-submitted; err == nil {
		t.Fatal("the browser got an answer from a consent app that was killed")
	}
	thaw()
	if got := k.connections(t, alice); got != before {
		t.Errorf("after the crash alice has %d connections, %d before: half-granted", got, before)
	}
	restart := time.Now()
	if err := k.st.StartServer(ctx, stack.ConsentApp); err != nil {
		t.Fatalf("start the consent app again: %v", err)
	}
	t.Logf("consent app back in %s", time.Since(restart).Round(time.Millisecond))

	// The person presses Allow again on the page they still have.
	page, err := b.Submit(f, "action", "allow")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	tok, err := k.exchange(ctx, k.clientID, page, verifier)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if a := k.callMCP(ctx, tok.AccessToken); a.kind() != "result" {
		t.Errorf("the retried connection: %s", a.kind())
	}
	if got := k.connections(t, alice); got != before+1 {
		t.Errorf("alice has %d connections, %d before one retried approval", got, before)
	}
	answers := steady.finish()
	results, outages := checkAnswers(t, "MCP call while the consent app was down", answers, restart.Add(-time.Hour), time.Now())
	t.Logf("MCP calls meanwhile: %d results, %d 503s", results, outages)
	k.checkAudit(t, loadToken, answers)
	checkRows(t, rowsBefore, k.rows(t), 1)
}

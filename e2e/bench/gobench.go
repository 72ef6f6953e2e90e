package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hotPaths are the Go benchmarks scripts/bench runs, by name as go test
// prints it (without the GOMAXPROCS suffix), with the figure they give.
var hotPaths = []struct{ name, figure string }{
	{"Introspect/cached", "verification cache hit (1 goroutine)"},
	{"ScopeCheck", "scope check: read the tools/call body, match the tool's scope"},
	{"Challenge/step-up", "challenge header: the step-up 403's WWW-Authenticate"},
	{"Challenge/401", "challenge: the whole 401 answer to a request without a token"},
	{"Gate", "the whole gate: cache hit, token rules, connection (in memory), scope"},
	{"ToolDispatch", "tool dispatch: list_invoices through the handler, auth off, store in memory"},
	{"GatedCall", "the same through the gate (cache hit, connection in memory)"},
	{"Connection", "the connection lookup in PostgreSQL (one round trip; the gate's cache spares it)"},
	{"ListInvoices", "list_invoices in PostgreSQL: one fenced read-only transaction"},
	{"ToolCall/list_invoices/connection-cached", "tools/call list_invoices over loopback HTTP, one at a time, PostgreSQL, connection cached"},
	{"ToolCall/list_invoices/connection-db", "the same with the connection read from PostgreSQL on every call"},
}

// cacheParallel is P2's cache side.
const cacheParallel = "Introspect/cached-parallel"

// goBenchRuns are the go test invocations: a pattern with two levels
// selects only sub-benchmarks, so the benchmarks without any run apart. The
// uncached introspection benchmarks are left out: P2 measures the real
// Hydra instead.
var goBenchRuns = []struct {
	pattern  string
	packages []string
}{
	{`^Benchmark(Introspect|Challenge)$/^(cached|cached-parallel|step-up|401)$`, []string{
		"github.com/mcp-oauth/mcp-server/internal/introspect",
		"github.com/mcp-oauth/mcp-server/internal/gate",
	}},
	{`^Benchmark(ScopeCheck|Gate|ToolDispatch|GatedCall|Connection|ListInvoices)$`, []string{
		"github.com/mcp-oauth/mcp-server/internal/gate",
		"github.com/mcp-oauth/mcp-server/internal/server",
		"github.com/mcp-oauth/mcp-server/internal/store",
	}},
	{`^BenchmarkToolCall$/^list_invoices$`, []string{"github.com/mcp-oauth/mcp-server/internal/server"}},
}

// goBenchmarks runs the Go benchmarks of the hot paths and adds their rows,
// and P2's cache side against the Hydra figure of verification.
func (r *run) goBenchmarks(ctx context.Context) error {
	if !r.p.GoBench {
		return nil
	}
	// The store's benchmarks make a schema of their own in the stack's
	// app database.
	results, err := runGoBenchmarks(ctx, r.root, r.st.AppDatabaseURL, r.p.GoBenchTime, r.p.GoBenchCount)
	if err != nil {
		return err
	}
	cache, ok := results[cacheParallel]
	if !ok {
		return fmt.Errorf("go test printed no %s result", cacheParallel)
	}
	rate := 1e9 / median(cache.metric("ns/op"))
	r.report.add(Row{ID: "P2", Figure: "verification cache hit, in process (go test -bench, all cores; every 64th call timed)",
		Median: dur(time.Duration(median(cache.metric("p50-ns")))), P99: dur(time.Duration(median(cache.metric("p99-ns")))),
		Rate: rate})
	if r.hydraRate > 0 {
		ratio := rate / r.hydraRate
		r.report.add(Row{ID: "P2", Figure: "cache ÷ Hydra throughput", Median: fmt.Sprintf("%.0f×", ratio),
			Goal: "≥ 20×", Met: verdict(ratio >= 20)})
	}
	for _, hp := range hotPaths {
		b, ok := results[hp.name]
		if !ok {
			return fmt.Errorf("go test printed no %s result", hp.name)
		}
		ns := median(b.metric("ns/op"))
		r.report.add(Row{ID: "Go", Figure: hp.figure, Median: dur(time.Duration(ns)), Rate: 1e9 / ns,
			Note: fmt.Sprintf("%.0f B/op, %.0f allocs/op", median(b.metric("B/op")), median(b.metric("allocs/op")))})
	}
	return nil
}

// goBenchResult holds one benchmark's figures, one per -count run.
type goBenchResult map[string][]float64 // unit → values

func (g goBenchResult) metric(unit string) []float64 { return g[unit] }

// runGoBenchmarks runs go test -bench in the repository and parses its
// output.
func runGoBenchmarks(ctx context.Context, root, databaseURL, benchtime string, count int) (map[string]goBenchResult, error) {
	var out []byte
	for _, run := range goBenchRuns {
		args := append([]string{"test", "-run", "^$", "-bench", run.pattern, "-benchmem",
			"-benchtime", benchtime, "-count", strconv.Itoa(count)}, run.packages...)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"), "DATABASE_URL="+databaseURL)
		b, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
		}
		out = append(out, b...)
	}
	return parseGoBench(out), nil
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parseGoBench reads go test's benchmark lines: a name, the iterations,
// then value-unit pairs.
func parseGoBench(out []byte) map[string]goBenchResult {
	results := map[string]goBenchResult{}
	s := bufio.NewScanner(bytes.NewReader(out))
	for s.Scan() {
		m := benchLine.FindStringSubmatch(s.Text())
		if m == nil {
			continue
		}
		res := results[m[1]]
		if res == nil {
			res = goBenchResult{}
			results[m[1]] = res
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				res[f[i+1]] = append(res[f[i+1]], v)
			}
		}
	}
	return results
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}

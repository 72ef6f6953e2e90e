package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcp-oauth/e2e/internal/load"
)

// authOverhead is P1: the same tools/call load against the stack's MCP
// server (the release build: full gate, cached verification, the
// connection checked in the database on every request) and against the
// benchmark build with authorization off. The sides take turns in short
// rounds (on, off, off, on, ...), each with its clients connected
// throughout, so that other work on the machine hits both alike.
func (r *run) authOverhead(ctx context.Context) error {
	type side struct {
		name    string
		server  int // for profile
		pid     int
		clients []*mcpClient
		results []load.Result
		// CPU seconds of the MCP server and of the whole stack, and the
		// calls they served.
		serverCPU, stackCPU float64
		made                int
	}
	grants := r.grants[:r.p.LoadTokens]
	gated := &side{name: "gate on", server: 0, pid: r.target.PID, clients: clients(r.p.P1Workers, r.target.Addr, grants)}
	open := &side{name: "auth off", server: 1, pid: r.ungated.PID, clients: clients(r.p.P1Workers, r.ungated.Addr, grants)}
	defer closeAll(gated.clients)
	defer closeAll(open.clients)
	for round := range r.p.P1Rounds {
		order := []*side{gated, open}
		if round%2 == 1 {
			order = []*side{open, gated}
		}
		for _, s := range order {
			// The first round of a side opens its connections; later ones
			// only let the other side's last calls drain.
			warmup := 250 * time.Millisecond
			wait := func() error { return nil }
			if round == 0 {
				warmup = time.Second
				wait = r.profile(ctx, s.server, "p1-"+strings.ReplaceAll(s.name, " ", "-")+".cpu.pprof", warmup+r.p.P1Round)
			}
			server, stack := procCPU(s.pid), stackCPU()
			res := load.Run(ctx, load.Options{Workers: r.p.P1Workers, Warmup: warmup, Duration: r.p.P1Round},
				func(ctx context.Context, w int) error { return s.clients[w].call(ctx, loadCall) })
			s.serverCPU += procCPU(s.pid) - server
			s.stackCPU += stackCPU() - stack
			s.made += res.Made
			if err := wait(); err != nil {
				return err
			}
			if res.Errors > 0 {
				r.log.Warn("bench: P1 errors", "side", s.name, "errors", res.Errors, "first", res.FirstErrors)
			}
			s.results = append(s.results, res)
		}
	}
	on, off := merge(gated.results), merge(open.results)
	// The rounds' ratios, each of two neighbouring rounds: their median
	// shrugs off a round that another process disturbed.
	var ratios []float64
	for i := range gated.results {
		ratios = append(ratios, gated.results[i].Throughput()/open.results[i].Throughput())
	}
	slices.Sort(ratios)
	ratio := median(ratios)
	note := fmt.Sprintf("%d workers, %d×%s", r.p.P1Workers, r.p.P1Rounds, r.p.P1Round)
	r.report.add(Row{ID: "P1", Figure: "tools/call list_invoices, gate on (verification and connection cached)", Lat: on.Latency,
		Rate: on.Throughput(), Errors: count(on.Errors), Note: note})
	r.report.add(Row{ID: "P1", Figure: "tools/call list_invoices, auth off (benchmark build)", Lat: off.Latency,
		Rate: off.Throughput(), Errors: count(off.Errors), Note: note})
	r.report.add(Row{ID: "P1", Figure: "throughput gate on ÷ auth off", Median: fmt.Sprintf("%.3f", ratio),
		Note: fmt.Sprintf("median of %d rounds, which range from %.3f to %.3f", len(ratios), ratios[0], ratios[len(ratios)-1]),
		Goal: "≥ 0.95", Met: verdict(ratio >= 0.95)})
	perCall := func(cpu float64, made int) time.Duration {
		return time.Duration(cpu / float64(max(made, 1)) * float64(time.Second))
	}
	for _, s := range []*side{gated, open} {
		r.report.add(Row{ID: "P1", Figure: "CPU per call, " + s.name + ": the MCP server; the stack (servers and PostgreSQL)",
			Median: dur(perCall(s.serverCPU, s.made)) + "; " + dur(perCall(s.stackCPU, s.made))})
	}
	r.report.add(Row{ID: "P1", Figure: "stack CPU per call auth off ÷ gate on: the throughput ratio where the CPU is the limit",
		Median: fmt.Sprintf("%.3f", (open.stackCPU/float64(max(open.made, 1)))/(gated.stackCPU/float64(max(gated.made, 1))))})
	return nil
}

// merge adds up results of equal kind.
func merge(rs []load.Result) load.Result {
	var m load.Result
	var all []time.Duration
	for _, r := range rs {
		m.Calls += r.Calls
		m.Errors += r.Errors
		m.Window += r.Window
		all = append(all, r.Latency...)
		m.FirstErrors = append(m.FirstErrors, r.FirstErrors...)
	}
	m.Latency = load.Sorted(all)
	return m
}

// BuildBenchServer builds the benchmark build of the MCP server
// (mcp-server/benchbuild.go, build tag bench), which can switch
// authorization off and serve profiles.
func BuildBenchServer(ctx context.Context, root string) (string, error) {
	bin := filepath.Join(root, ".bin", "bench", "mcp-server-bench")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "bench", "-o", bin, "github.com/mcp-oauth/mcp-server")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(root, "go.work"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the benchmark MCP server: %w\n%s", err, out)
	}
	return bin, nil
}

// Package bench measures what the stack's security costs, against a running
// stack: P1 auth overhead, P2 verification, P3 revocation, P4 the OAuth
// dance, P5 load and memory, and the Go benchmarks of the hot paths. It
// reports one table (report.go). scripts/bench runs it through
// e2e/cmd/bench; docs/benchmarks.md explains the figures.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/e2e/internal/freeport"
	"github.com/mcp-oauth/e2e/stack"
)

// Params are a run's parameters; they are printed with the table.
type Params struct {
	// Dances is how many OAuth dances P4 times. Each leaves a connection
	// and its access token: the last Revokes of them are revoked by P3, the
	// first LoadTokens carry the load of P1 and P5.
	Dances     int
	Revokes    int
	LoadTokens int

	// P1: Workers call back to back, Rounds times per side for Round each,
	// the sides taking turns (gate on, auth off, auth off, gate on, ...) so
	// that drift in the machine's load hits both alike.
	P1Workers int
	P1Rounds  int
	P1Round   time.Duration

	// P2: Workers call Hydra's introspection endpoint for Duration.
	P2Workers  int
	P2Duration time.Duration

	// P5: each level runs Clients clients for Warmup (not counted), then
	// Duration. Each client waits Think on average between its calls.
	P5Clients  []int
	P5Warmup   time.Duration
	P5Duration time.Duration
	P5Think    time.Duration

	// GoBench runs the hot paths' Go benchmarks (go test -bench) with
	// -benchtime GoBenchTime and -count GoBenchCount.
	GoBench      bool
	GoBenchTime  string
	GoBenchCount int

	// ProfileDir, when set, receives CPU profiles of both P1 sides and of
	// P5's largest level, and a heap profile after it (go tool pprof). The
	// loads then go to a benchmark build with the gate on, which serves
	// profiles, rather than to the stack's own server.
	ProfileDir string
	// ServerEnv is added to the environment of the MCP servers the run
	// starts itself (the replica, the benchmark builds), e.g. GOGC=200 to
	// try a setting; with ProfileDir that includes the one under load.
	ServerEnv []string
}

// Defaults are the parameters of docs/benchmarks.md.
func Defaults() Params {
	return Params{
		Dances: 60, Revokes: 50, LoadTokens: 10,
		P1Workers: 8, P1Rounds: 8, P1Round: 4 * time.Second,
		P2Workers: 8, P2Duration: 5 * time.Second,
		P5Clients: []int{50, 200, 500}, P5Warmup: 3 * time.Second, P5Duration: 30 * time.Second, P5Think: time.Second,
		GoBench: true, GoBenchTime: "1s", GoBenchCount: 5,
	}
}

// Short is a smoke run: every phase, tiny loads, in well under a minute.
func Short() Params {
	return Params{
		Dances: 6, Revokes: 3, LoadTokens: 3,
		P1Workers: 2, P1Rounds: 1, P1Round: 500 * time.Millisecond,
		P2Workers: 2, P2Duration: 500 * time.Millisecond,
		P5Clients: []int{5, 20}, P5Warmup: 200 * time.Millisecond, P5Duration: time.Second, P5Think: 100 * time.Millisecond,
		GoBench: false, GoBenchTime: "100x", GoBenchCount: 1,
	}
}

// Validate reports parameters that cannot make a run.
func (p Params) Validate() error {
	var errs []error
	if p.Revokes < 1 || p.LoadTokens < 1 || p.Dances < p.Revokes+p.LoadTokens {
		errs = append(errs, fmt.Errorf("dances (%d) must cover revokes (%d ≥ 1) and load tokens (%d ≥ 1)", p.Dances, p.Revokes, p.LoadTokens))
	}
	if p.P1Workers < 1 || p.P1Rounds < 1 || p.P1Round <= 0 || p.P2Workers < 1 || p.P2Duration <= 0 {
		errs = append(errs, errors.New("P1 and P2 need at least one worker, one round and a positive duration"))
	}
	if len(p.P5Clients) == 0 || p.P5Duration <= 0 || p.P5Think < 0 {
		errs = append(errs, errors.New("P5 needs client levels, a positive duration and a think time ≥ 0"))
	}
	for _, n := range p.P5Clients {
		if n < 1 || n > 2000 {
			errs = append(errs, fmt.Errorf("P5: %d clients: want 1 to 2000 (the load stays on this machine)", n))
		}
	}
	return errors.Join(errs...)
}

// run is the state of one benchmark run.
type run struct {
	st   *stack.Stack
	p    Params
	log  *slog.Logger
	root string
	// db is the app database, for revoking and for the stored password hash.
	db *pgxpool.Pool
	// hc makes the one-off requests (OAuth, introspection); the loads give
	// each client its own connections.
	hc *http.Client
	// grants are what P4 obtained, in order.
	grants []grant
	// target is the MCP server P1 (gate on) and P5 load: the stack's own,
	// or with ProfileDir a benchmark build with the gate on. ungated is the
	// benchmark build with authorization off (P1).
	target, ungated mcpServer
	// replicas are the addresses of P3's MCP server replicas, the stack's
	// own first.
	replicas []string
	// pprof are the profile addresses of target and ungated (ProfileDir).
	pprof [2]string
	// started are the MCP servers the run started itself.
	started []*stack.ExtraMCPServer
	// hydraRate is P2's Hydra throughput, for the cache's ratio.
	hydraRate float64
	report    *Report
}

// Run measures st and returns the report. st must have the demo data
// (stack.Options.SeedDemo); Run adds connections to it and revokes some.
func Run(ctx context.Context, st *stack.Stack, p Params, log *slog.Logger) (*Report, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	root, err := stack.FindRepoRoot("")
	if err != nil {
		return nil, err
	}
	db, err := pgxpool.New(ctx, st.AppDatabaseURL)
	if err != nil {
		return nil, errors.New("bench: cannot open the app database")
	}
	defer db.Close()
	meter := startCPUMeter()
	r := &run{st: st, p: p, log: log, root: root, db: db, hc: &http.Client{Timeout: 30 * time.Second},
		report: &Report{Params: p, Started: time.Now()}}
	defer r.hc.CloseIdleConnections()
	if r.report.Machine, err = describeMachine(ctx, db); err != nil {
		return nil, err
	}

	phases := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"P4 the OAuth dance", r.dances},
		{"extra MCP servers", r.startServers},
		{"memory at rest", r.memoryAtRest},
		{"P2 verification", r.verification},
		{"Go benchmarks", r.goBenchmarks},
		{"P1 auth overhead", r.authOverhead},
		{"P5 load", r.load},
		{"P3 revocation", r.revocation},
	}
	// The servers the run started stop with it: the stack may serve on.
	defer func() {
		for _, m := range r.started {
			if err := m.Stop(); err != nil {
				log.Warn("bench: stop an MCP server", "err", err)
			}
		}
	}()
	for _, ph := range phases {
		started := time.Now()
		log.Info("bench: " + ph.name)
		if err := ph.fn(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", ph.name, err)
		}
		log.Info("bench: "+ph.name+" done", "took", time.Since(started).Round(time.Millisecond))
	}
	r.report.Took = time.Since(r.report.Started)
	r.report.Machine.OtherLoad = cores(meter.others())
	return r.report, nil
}

// startServers finds P3's replicas (starting a second one if the stack has
// only its own) and starts P1's server with authorization off (the
// benchmark build) beside them, with the stack's configuration. With
// ProfileDir, the loads go to a benchmark build with the gate on instead of
// the stack's server, and both benchmark builds serve profiles.
func (r *run) startServers(ctx context.Context) error {
	pid, err := r.st.ServerPID("mcp-server")
	if err != nil {
		return err
	}
	r.target = mcpServer{Addr: r.st.MCPServerAddr(), PID: pid}
	for _, u := range r.st.MCPReplicaURLs {
		r.replicas = append(r.replicas, strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/mcp"))
	}
	if len(r.replicas) < 2 {
		replica, err := r.startMCPServer(ctx, stack.MCPServerOptions{Name: "mcp-server-replica", Env: r.p.ServerEnv})
		if err != nil {
			return err
		}
		r.replicas = append(r.replicas, replica.Addr)
	}
	bin, err := BuildBenchServer(ctx, r.root)
	if err != nil {
		return err
	}
	var pprofEnv [2][]string
	if r.p.ProfileDir != "" {
		ports, err := freeport.Pick(2)
		if err != nil {
			return err
		}
		for i, port := range ports {
			r.pprof[i] = fmt.Sprintf("127.0.0.1:%d", port)
			pprofEnv[i] = []string{"BENCH_PPROF_ADDR=" + r.pprof[i]}
		}
		if r.target, err = r.startMCPServer(ctx, stack.MCPServerOptions{
			Name: "mcp-server-profiled", Binary: bin, Env: append(pprofEnv[0], r.p.ServerEnv...),
		}); err != nil {
			return err
		}
	}
	g := r.grants[0]
	r.ungated, err = r.startMCPServer(ctx, stack.MCPServerOptions{
		Name:   "mcp-server-ungated",
		Binary: bin,
		Env: append(append([]string{
			"BENCH_AUTH=off",
			"BENCH_UNGATED_USER_ID=" + g.userID,
			"BENCH_UNGATED_TEAM_ID=" + g.teamID,
			"BENCH_UNGATED_CONNECTION_ID=" + g.connectionID,
		}, r.p.ServerEnv...), pprofEnv[1]...),
	})
	return err
}

// mcpServer is an MCP server process the run loads.
type mcpServer struct {
	Addr string // 127.0.0.1:port
	PID  int
}

// startMCPServer starts an MCP server beside the stack's, for this run only.
func (r *run) startMCPServer(ctx context.Context, opts stack.MCPServerOptions) (mcpServer, error) {
	m, err := r.st.StartMCPServer(ctx, opts)
	if err != nil {
		return mcpServer{}, err
	}
	r.started = append(r.started, m)
	return mcpServer{Addr: m.Addr, PID: m.PID}, nil
}

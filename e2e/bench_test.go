package e2e

import (
	"log/slog"
	"os/exec"
	"strings"
	"testing"

	"github.com/mcp-oauth/e2e/bench"
	"github.com/mcp-oauth/e2e/stack"
)

// TestBenchSmoke runs the benchmark's smoke mode (scripts/bench -short)
// against the shared stack: every phase end to end with tiny loads. It
// checks what the phases do, never how fast: every call succeeds, and every
// revoked connection is refused by both replicas (Run fails otherwise).
func TestBenchSmoke(t *testing.T) {
	rep, err := bench.Run(t.Context(), st, bench.Short(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rep.Rows {
		seen[r.ID] = true
		if r.Errors != nil && *r.Errors != 0 {
			t.Errorf("%s %s: %d calls failed", r.ID, r.Figure, *r.Errors)
		}
	}
	for _, id := range []string{"P1", "P2", "P3", "P4", "P5"} {
		if !seen[id] {
			t.Errorf("no %s figures in the report", id)
		}
	}
}

// The benchmark build, which can switch authorization off, refuses to serve in
// production mode.
func TestBenchBuildRefusesProduction(t *testing.T) {
	root, err := stack.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := bench.BuildBenchServer(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bin, "serve")
	cmd.Env = []string{
		"MODE=production", "BENCH_AUTH=off", "LISTEN_ADDR=127.0.0.1:0", "DATABASE_URL=" + st.AppDatabaseURL,
		"MCP_RESOURCE_URL=https://mcp.example.com/mcp", "AUTH_ISSUER=https://auth.example.com",
		"BENCH_UNGATED_USER_ID=77777777-7777-7777-7777-777777777777",
		"BENCH_UNGATED_TEAM_ID=11111111-1111-1111-1111-111111111111",
		"BENCH_UNGATED_CONNECTION_ID=33333333-3333-3333-3333-333333333333",
	}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "never runs with MODE=production") {
		t.Fatalf("benchmark build with MODE=production: %v\n%s", err, out)
	}
}

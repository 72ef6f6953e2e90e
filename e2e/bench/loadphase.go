package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mcp-oauth/e2e/internal/load"
)

// memoryAtRest records the loaded MCP server's RSS before any load.
func (r *run) memoryAtRest(context.Context) error {
	b, err := rss(r.target.PID)
	if err != nil {
		return err
	}
	r.report.add(Row{ID: "P5", Figure: "MCP server RSS at rest (before any load)", Median: mib(b)})
	return nil
}

// load is P5: levels of concurrent MCP clients, each with its own
// connection and one of the load tokens, calling the DB-backed tool with a
// think time, against the stack's MCP server. During the largest level the
// server's RSS is sampled.
func (r *run) load(ctx context.Context) error {
	pid := r.target.PID
	largest := 0
	for _, n := range r.p.P5Clients {
		largest = max(largest, n)
	}
	grants := r.grants[:r.p.LoadTokens]
	for _, n := range r.p.P5Clients {
		cs := clients(n, r.target.Addr, grants)
		var samples []int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var profiled func() error
		if n == largest {
			wg.Go(func() { samples = sampleRSS(pid, stop) })
			profiled = r.profile(ctx, 0, fmt.Sprintf("p5-%d-clients.cpu.pprof", n), r.p.P5Warmup+r.p.P5Duration)
		}
		res := load.Run(ctx, load.Options{Workers: n, Warmup: r.p.P5Warmup, Duration: r.p.P5Duration, Think: r.p.P5Think},
			func(ctx context.Context, w int) error { return cs[w].call(ctx, loadCall) })
		close(stop)
		wg.Wait()
		if profiled != nil {
			err := errors.Join(profiled(), r.profile(ctx, 0, fmt.Sprintf("p5-%d-clients.heap.pprof", n), 0)())
			if err != nil {
				closeAll(cs)
				return err
			}
		}
		closeAll(cs)
		if res.Errors > 0 {
			r.log.Warn("bench: P5 errors", "clients", n, "errors", res.Errors, "first", res.FirstErrors)
		}
		row := Row{ID: "P5", Figure: fmt.Sprintf("%d clients, tools/call list_invoices", n), Lat: res.Latency,
			Rate: res.Throughput(), Errors: count(res.Errors)}
		if n == 200 {
			row.Goal = "0 errors, p99 ≤ 50 ms"
			row.Met = verdict(res.Errors == 0 && res.Latency.Percentile(99) <= 50*time.Millisecond)
		}
		r.report.add(row)
		if n == largest && len(samples) > 0 {
			r.report.add(Row{ID: "P5", Figure: fmt.Sprintf("MCP server RSS at %d clients (median, max of %d samples)", n, len(samples)),
				Median: mib(medianInt(samples)), P99: mib(maxInt(samples))})
		}
	}
	return nil
}

// sampleRSS reads pid's RSS every 250ms until stop closes.
func sampleRSS(pid int, stop <-chan struct{}) []int64 {
	var out []int64
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return out
		case <-t.C:
			if b, err := rss(pid); err == nil {
				out = append(out, b)
			}
		}
	}
}

func medianInt(vs []int64) int64 {
	f := make([]float64, len(vs))
	for i, v := range vs {
		f[i] = float64(v)
	}
	return int64(median(f))
}

func maxInt(vs []int64) int64 {
	var m int64
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

// profile fetches a profile from the benchmark build with the gate on
// (server 0) or off (1) into ProfileDir/name: a CPU profile over d, or the
// heap when d is 0. The returned func waits for it. Without ProfileDir it
// does nothing.
func (r *run) profile(ctx context.Context, server int, name string, d time.Duration) (wait func() error) {
	if r.p.ProfileDir == "" {
		return func() error { return nil }
	}
	u := "http://" + r.pprof[server] + "/debug/pprof/heap"
	if d > 0 {
		u = fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", r.pprof[server], int(d.Round(time.Second)/time.Second))
	}
	done := make(chan error, 1)
	go func() { done <- fetchTo(ctx, u, filepath.Join(r.p.ProfileDir, name)) }()
	return func() error { return <-done }
}

func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile %s: HTTP %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

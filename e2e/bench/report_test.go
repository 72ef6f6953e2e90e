package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/e2e/internal/load"
)

func TestParseGoBench(t *testing.T) {
	out := []byte(`goos: linux
pkg: github.com/mcp-oauth/mcp-server/internal/introspect
BenchmarkIntrospect/cached-2                    	 2000997	       188.5 ns/op	       0 B/op	       0 allocs/op
BenchmarkIntrospect/cached-parallel-2           	 1649576	       232.2 ns/op	       190.0 p50-ns	      1302 p99-ns	       0 B/op	       0 allocs/op
BenchmarkIntrospect/cached-2                    	 2000997	       190.5 ns/op	       0 B/op	       0 allocs/op
BenchmarkScopeCheck                             	   79513	      3975 ns/op	    2640 B/op	      50 allocs/op
PASS
`)
	got := parseGoBench(out)
	if v := got["Introspect/cached"].metric("ns/op"); len(v) != 2 || v[0] != 188.5 || v[1] != 190.5 {
		t.Errorf("Introspect/cached ns/op = %v", v)
	}
	if v := got["Introspect/cached-parallel"].metric("p99-ns"); len(v) != 1 || v[0] != 1302 {
		t.Errorf("cached-parallel p99-ns = %v (the name must keep -parallel and lose -2)", v)
	}
	if v := got["ScopeCheck"].metric("allocs/op"); len(v) != 1 || v[0] != 50 {
		t.Errorf("ScopeCheck allocs/op = %v", v)
	}
	if median([]float64{3, 1, 2}) != 2 {
		t.Error("median of 3, 1, 2 is not 2")
	}
}

func TestReportTable(t *testing.T) {
	rep := &Report{Params: Short(), Started: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Took: 42 * time.Second,
		Machine: Machine{CPU: "Test CPU", Cores: 2, Memory: "4.0 GiB", Go: "go1.26", OS: "Linux", Postgres: "15.2", Database: "a private cluster"}}
	rep.add(Row{ID: "P3", Figure: "revoke", Lat: load.Sorted([]time.Duration{2 * time.Millisecond, time.Millisecond}), Goal: "p99 ≤ 1 s", Met: verdict(true)})
	rep.add(Row{ID: "P1", Figure: "calls", Lat: load.Latencies{1500 * time.Microsecond}, Rate: 1234.6, Errors: count(0)})
	rep.add(Row{ID: "P1", Figure: "ratio", Median: "0.960", Goal: "≥ 0.95", Met: verdict(true)})
	var sb strings.Builder
	rep.Write(&sb)
	out := sb.String()
	for _, want := range []string{
		"Test CPU, 2 cores, 4.0 GiB memory",
		"| P1 | calls | 1.50 ms | 1.50 ms | 1.50 ms | 1,235/s | 0 |  |  |\n| P1 | ratio | 0.960 |  |  |  |  | ≥ 0.95 | met |\n| P3 | revoke | 1.00 ms | 2.00 ms | 2.00 ms |  |  | p99 ≤ 1 s | met |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		450 * time.Nanosecond: "450 ns", 4200 * time.Nanosecond: "4.20 µs", 12345 * time.Microsecond: "12.3 ms",
		234 * time.Millisecond: "234 ms", 1500 * time.Millisecond: "1.50 s",
	} {
		if got := dur(d); got != want {
			t.Errorf("dur(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := Short().Validate(); err != nil {
		t.Errorf("short: %v", err)
	}
	p := Short()
	p.Dances, p.P5Clients = 2, []int{5000}
	err := p.Validate()
	if err == nil || !strings.Contains(err.Error(), "dances (2) must cover") || !strings.Contains(err.Error(), "5000 clients") {
		t.Errorf("bad parameters: %v", err)
	}
}

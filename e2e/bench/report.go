package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-oauth/e2e/internal/load"
)

// Report is the outcome of a run: the machine, the parameters and one row
// per figure.
type Report struct {
	Machine Machine
	Params  Params
	Started time.Time
	Took    time.Duration
	Rows    []Row
}

// Row is one figure of the table. Lat fills the median, p95 and p99
// columns; Value replaces them for a figure that is not a latency (a
// ratio, a memory size), and Text then is how to print it.
type Row struct {
	ID     string // P1 … P5, "Go" for the Go benchmarks
	Figure string
	Lat    load.Latencies
	// Median, P95 and P99, when set, override Lat's (the Go benchmarks
	// report their own percentiles).
	Median, P95, P99 string
	// Rate is calls per second; 0 = not a throughput figure.
	Rate float64
	// Errors is the failed calls' count; nil = not a count of calls.
	Errors *int
	Goal   string
	Met    string // "met", "missed" or ""
	Note   string
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

func (rep *Report) add(r Row) { rep.Rows = append(rep.Rows, r) }

// count makes a Row's Errors.
func count(n int) *int { return &n }

// order is the table's order of row IDs; rows keep their order within one.
var order = []string{"P1", "P2", "P3", "P4", "P5", "Go"}

// Write prints the report as Markdown: a few lines about the run, then the
// table.
func (rep *Report) Write(w io.Writer) {
	m, p := rep.Machine, rep.Params
	fmt.Fprintf(w, "Machine: %s, %d cores, %s memory; %s %s; PostgreSQL %s (%s). Load average %s at the start; "+
		"other processes used %s on average during the run.\n\n",
		m.CPU, m.Cores, m.Memory, m.Go, m.OS, m.Postgres, m.Database, m.LoadAverage, m.OtherLoad)
	clients := make([]string, len(p.P5Clients))
	for i, n := range p.P5Clients {
		clients[i] = strconv.Itoa(n)
	}
	fmt.Fprintf(w, "Parameters: P4 %d dances, P3 %d revokes on 2 replicas, %d connections carry the loads; "+
		"P1 %d workers back to back, %d rounds of %s per side, taking turns; P2 %d workers for %s; "+
		"P5 %s clients, each pausing %s on average (½× to 1½×) between calls, %s warm-up + %s per level; "+
		"Go benchmarks %s, -benchtime %s -count %d. Run started %s, took %s.\n\n",
		p.Dances, p.Revokes, p.LoadTokens,
		p.P1Workers, p.P1Rounds, p.P1Round, p.P2Workers, p.P2Duration,
		strings.Join(clients, "/"), p.P5Think, p.P5Warmup, p.P5Duration,
		onOff(p.GoBench), p.GoBenchTime, p.GoBenchCount,
		rep.Started.UTC().Format("2006-01-02 15:04 MST"), rep.Took.Round(time.Second))

	fmt.Fprintln(w, "| | figure | median | p95 | p99 | rate | errors | goal | result |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|---|---|")
	rows := slices.Clone(rep.Rows)
	slices.SortStableFunc(rows, func(a, b Row) int { return slices.Index(order, a.ID) - slices.Index(order, b.ID) })
	for _, r := range rows {
		med, p95, p99 := r.Median, r.P95, r.P99
		if r.Lat != nil {
			med, p95, p99 = dur(r.Lat.Percentile(50)), dur(r.Lat.Percentile(95)), dur(r.Lat.Percentile(99))
		}
		figure := r.Figure
		if r.Note != "" {
			figure += " (" + r.Note + ")"
		}
		rate, errs := "", ""
		if r.Rate > 0 {
			rate = perSecond(r.Rate)
		}
		if r.Errors != nil {
			errs = strconv.Itoa(*r.Errors)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.ID, figure, med, p95, p99, rate, errs, r.Goal, r.Met)
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// dur prints a duration with three significant digits in a unit that
// suits it.
func dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + " µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	default:
		return sig3(d.Seconds()) + " s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// perSecond prints a rate with thousands separated.
func perSecond(v float64) string {
	if v < 100 {
		return sig3(v) + "/s"
	}
	s := strconv.FormatFloat(v, 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + "/s"
}

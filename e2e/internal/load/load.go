// Package load is a plain closed-loop load generator: workers that each make
// one call after another for a fixed time (optionally pausing between
// calls, as a person or an agent would), keeping every call's latency.
package load

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Options shape a run.
type Options struct {
	// Workers is how many callers run at once; at least 1.
	Workers int
	// Warmup is run before the measured window and not counted: connections
	// are opened, caches filled, the pool grown.
	Warmup time.Duration
	// Duration is the measured window.
	Duration time.Duration
	// Think is the mean pause after each call; zero = back to back. Each
	// pause is drawn uniformly from [Think/2, 3·Think/2], and each worker
	// starts after a random share of Think, so workers do not call in step.
	Think time.Duration
}

// Call makes one call for worker (0 ≤ worker < Workers). A non-nil error
// counts as a failed call.
type Call func(ctx context.Context, worker int) error

// Result is what a run measured in its window.
type Result struct {
	// Calls were started and finished inside the window, failed or not.
	Calls  int
	Errors int
	// Window is the measured time.
	Window time.Duration
	// Latency holds every counted call's latency, failures included.
	Latency Latencies
	// FirstErrors are up to five distinct error messages, for diagnosis.
	FirstErrors []string
	// Made counts every call that finished, the warm-up's and those cut
	// off by the window's end included: the work a server did during Run.
	Made int
}

// Throughput is counted calls per second.
func (r Result) Throughput() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Calls) / r.Window.Seconds()
}

// Run calls call from opts.Workers goroutines until the warm-up and the
// window have passed or ctx ends.
func Run(ctx context.Context, opts Options, call Call) Result {
	workers := max(opts.Workers, 1)
	start := time.Now().Add(opts.Warmup)
	end := start.Add(opts.Duration)
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	type tally struct {
		lat    []time.Duration
		errors int
		msgs   []string
		made   int
	}
	tallies := make([]tally, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			t := &tallies[w]
			if opts.Think > 0 && !sleep(ctx, time.Duration(rand.Int64N(int64(opts.Think)))) {
				return
			}
			for ctx.Err() == nil {
				began := time.Now()
				err := call(ctx, w)
				done := time.Now()
				t.made++
				if !began.Before(start) && !done.After(end) {
					t.lat = append(t.lat, done.Sub(began))
					if err != nil {
						t.errors++
						if len(t.msgs) < 5 && !slices.Contains(t.msgs, err.Error()) {
							t.msgs = append(t.msgs, err.Error())
						}
					}
				}
				if opts.Think > 0 && !sleep(ctx, opts.Think/2+time.Duration(rand.Int64N(int64(opts.Think)))) {
					return
				}
			}
		})
	}
	wg.Wait()

	r := Result{Window: opts.Duration}
	for _, t := range tallies {
		r.Latency = append(r.Latency, t.lat...)
		r.Errors += t.errors
		r.Made += t.made
		for _, m := range t.msgs {
			if len(r.FirstErrors) < 5 && !slices.Contains(r.FirstErrors, m) {
				r.FirstErrors = append(r.FirstErrors, m)
			}
		}
	}
	r.Calls = len(r.Latency)
	slices.Sort(r.Latency)
	return r
}

// sleep waits d; false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Latencies are sorted durations.
type Latencies []time.Duration

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100); 0 for
// no samples.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	rank := int(float64(len(l))*p/100+0.999999999) - 1
	return l[min(max(rank, 0), len(l)-1)]
}

// Sorted returns ds sorted, as Latencies.
func Sorted(ds []time.Duration) Latencies {
	l := slices.Clone(ds)
	slices.Sort(l)
	return l
}

package load

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {95, 95 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0.1, time.Millisecond}} {
		if got := l.Percentile(tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := Sorted([]time.Duration{3, 1, 2}).Percentile(50); got != 2 {
		t.Errorf("median of 3,1,2 = %v, want 2", got)
	}
	if got := Latencies(nil).Percentile(99); got != 0 {
		t.Errorf("no samples: %v, want 0", got)
	}
}

// Calls in the warm-up are made but not counted; errors are counted and
// their messages kept once each.
func TestRunCountsOnlyTheWindow(t *testing.T) {
	var made atomic.Int64
	r := Run(context.Background(), Options{Workers: 3, Warmup: 100 * time.Millisecond, Duration: 200 * time.Millisecond},
		func(ctx context.Context, worker int) error {
			n := made.Add(1)
			time.Sleep(5 * time.Millisecond)
			if n%2 == 0 {
				return errors.New("even")
			}
			return nil
		})
	if r.Made != int(made.Load()) {
		t.Errorf("Made = %d, want all %d calls", r.Made, made.Load())
	}
	if r.Calls == 0 || int64(r.Calls) >= made.Load() {
		t.Fatalf("counted %d of %d calls; want some, and fewer than all (the warm-up's are not counted)", r.Calls, made.Load())
	}
	if r.Errors == 0 || r.Errors == r.Calls || len(r.FirstErrors) != 1 || r.FirstErrors[0] != "even" {
		t.Errorf("errors %d of %d, messages %q; want some failures reported once as \"even\"", r.Errors, r.Calls, r.FirstErrors)
	}
	if len(r.Latency) != r.Calls || r.Latency.Percentile(50) < 5*time.Millisecond {
		t.Errorf("%d latencies for %d calls, median %v", len(r.Latency), r.Calls, r.Latency.Percentile(50))
	}
}

// With a think time every worker pauses between calls, so far fewer calls
// are made than back to back.
func TestRunThinks(t *testing.T) {
	call := func(context.Context, int) error { return nil }
	r := Run(context.Background(), Options{Workers: 2, Duration: 300 * time.Millisecond, Think: 100 * time.Millisecond}, call)
	// Each worker: a first pause of up to 100ms, then at least 50ms per call.
	if r.Calls < 2 || r.Calls > 2*6 {
		t.Errorf("%d calls in 300ms by 2 workers thinking 50–150ms each; want 2 to 12", r.Calls)
	}
}

package introspect

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// countingIntrospector answers from a table and counts the calls per token;
// release, when set, holds every call until it is closed.
type countingIntrospector struct {
	answers map[string]*Result
	release chan struct{}
	mu      sync.Mutex
	calls   map[string]int
}

func (f *countingIntrospector) Introspect(ctx context.Context, token string) (*Result, error) {
	f.mu.Lock()
	f.calls[token]++
	f.mu.Unlock()
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if token == "tok_error" {
		return nil, errors.New("hydra unreachable")
	}
	if res, ok := f.answers[token]; ok {
		return res, nil
	}
	return &Result{Active: false}, nil
}

func (f *countingIntrospector) count(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[token]
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }
func active(exp time.Time) *Result {
	return &Result{Active: true, TokenUse: "access_token", Expiry: exp.Unix()}
}
func newFake(a map[string]*Result) *countingIntrospector {
	return &countingIntrospector{answers: a, calls: map[string]int{}}
}

func TestCacheLifetime(t *testing.T) {
	clk := newClock()
	fake := newFake(map[string]*Result{
		"tok_long":  active(clk.Now().Add(time.Hour)),        // bounded by MaxTTL
		"tok_short": active(clk.Now().Add(10 * time.Second)), // bounded by its expiry
		"tok_noexp": {Active: true},
	})
	c := NewCache(fake, CacheOptions{MaxTTL: time.Minute, Now: clk.Now})
	ask := func(token string) {
		t.Helper()
		if _, err := c.Introspect(t.Context(), token); err != nil {
			t.Fatal(err)
		}
	}
	for _, tok := range []string{"tok_long", "tok_short", "tok_noexp", "tok_inactive"} {
		ask(tok)
		ask(tok)
	}
	for range 2 {
		if _, err := c.Introspect(t.Context(), "tok_error"); err == nil {
			t.Fatal("error not passed on")
		}
	}
	for tok, want := range map[string]int{"tok_long": 1, "tok_short": 1, "tok_noexp": 2, "tok_inactive": 2, "tok_error": 2} {
		if got := fake.count(tok); got != want {
			t.Errorf("%s: %d lookups, want %d", tok, got, want)
		}
	}

	clk.Add(11 * time.Second) // tok_short expired, tok_long still within MaxTTL
	ask("tok_short")
	ask("tok_long")
	if fake.count("tok_short") != 2 || fake.count("tok_long") != 1 {
		t.Errorf("after 11s: tok_short %d, tok_long %d lookups; want 2 and 1", fake.count("tok_short"), fake.count("tok_long"))
	}
	clk.Add(50 * time.Second) // 61s: past MaxTTL
	ask("tok_long")
	if fake.count("tok_long") != 2 {
		t.Errorf("after MaxTTL: tok_long %d lookups, want 2", fake.count("tok_long"))
	}
}

func TestCacheWithoutTTLStillSharesLookups(t *testing.T) {
	clk := newClock()
	fake := newFake(map[string]*Result{"tok": active(clk.Now().Add(time.Hour))})
	c := NewCache(fake, CacheOptions{MaxTTL: 0, Now: clk.Now})
	for range 3 {
		c.Introspect(t.Context(), "tok")
	}
	if fake.count("tok") != 3 {
		t.Errorf("MaxTTL 0: %d lookups for 3 calls, want 3", fake.count("tok"))
	}
}

// TestCacheSingleFlight runs in a synctest bubble: synctest.Wait returns
// once every caller is blocked, waiting on a lookup or inside one, which is
// the moment to count the lookups (no sleep standing in for it).
func TestCacheSingleFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newClock()
		fake := newFake(map[string]*Result{
			"tok_a": active(clk.Now().Add(time.Hour)),
			"tok_b": active(clk.Now().Add(time.Hour)),
		})
		fake.release = make(chan struct{})
		c := NewCache(fake, CacheOptions{MaxTTL: time.Minute, Now: clk.Now})

		var wg sync.WaitGroup
		var answered atomic.Int32
		for i := range 40 {
			wg.Go(func() {
				res, err := c.Introspect(context.Background(), []string{"tok_a", "tok_b"}[i%2])
				if err == nil && res.Active {
					answered.Add(1)
				}
			})
		}
		// Everyone is waiting, no caller is left outside; then let Hydra
		// answer.
		synctest.Wait()
		if answered.Load() != 0 || fake.count("tok_a") != 1 || fake.count("tok_b") != 1 {
			t.Errorf("with all 40 callers waiting: %d answered, %d+%d lookups; want none answered with 1+1", answered.Load(), fake.count("tok_a"), fake.count("tok_b"))
		}
		close(fake.release)
		wg.Wait()
		if answered.Load() != 40 || fake.count("tok_a") != 1 || fake.count("tok_b") != 1 {
			t.Errorf("%d of 40 answered with %d+%d lookups; want 40 with 1+1", answered.Load(), fake.count("tok_a"), fake.count("tok_b"))
		}
	})
}

// A waiter that gives up gets its own context's error; the lookup goes on
// for the others and fills the cache.
func TestCacheWaiterGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newClock()
		fake := newFake(map[string]*Result{"tok": active(clk.Now().Add(time.Hour))})
		fake.release = make(chan struct{})
		c := NewCache(fake, CacheOptions{MaxTTL: time.Minute, Now: clk.Now})

		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() { _, err := c.Introspect(ctx, "tok"); first <- err }()
		synctest.Wait()
		if n := fake.count("tok"); n != 1 {
			t.Fatalf("%d lookups with the first caller waiting, want 1", n)
		}
		second := make(chan error, 1)
		go func() { _, err := c.Introspect(context.Background(), "tok"); second <- err }()
		synctest.Wait()
		cancel()
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v", err)
		}
		close(fake.release)
		if err := <-second; err != nil {
			t.Errorf("other waiter: %v", err)
		}
		if _, err := c.Introspect(context.Background(), "tok"); err != nil || fake.count("tok") != 1 {
			t.Errorf("after the lookup: %v, %d lookups; want a cached answer", err, fake.count("tok"))
		}
	})
}

// A lookup that hangs ends at the call timeout, exactly (synctest's clock).
func TestCacheLookupTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := newFake(nil)
		fake.release = make(chan struct{}) // never released
		const timeout = 20 * time.Millisecond
		c := NewCache(fake, CacheOptions{MaxTTL: time.Minute, CallTimeout: timeout})
		start := time.Now()
		if _, err := c.Introspect(context.Background(), "tok"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("hung lookup: %v, want the call timeout", err)
		}
		if d := time.Since(start); d != timeout {
			t.Errorf("hung lookup answered after %s, want the call timeout, %s", d, timeout)
		}
	})
}

func TestCacheStaysBounded(t *testing.T) {
	clk := newClock()
	answers := map[string]*Result{}
	for i := range 30 {
		answers[fmt.Sprint("tok_", i)] = active(clk.Now().Add(time.Duration(i+1) * time.Second))
	}
	c := NewCache(newFake(answers), CacheOptions{MaxTTL: time.Minute, MaxEntries: 10, Now: clk.Now})
	for tok := range answers {
		c.Introspect(t.Context(), tok)
	}
	if n := c.entries.Len(); n > 10 {
		t.Errorf("%d entries, want at most 10", n)
	}
}

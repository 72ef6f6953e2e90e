package throttle

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time             { return c.t }
func (c *clock) advance(d time.Duration)    { c.t = c.t.Add(d) }
func newLimiter(c *clock, max int) *Limiter { l := New(max, 10*time.Minute); l.now = c.now; return l }

func TestBlocksAfterMaxFailuresUntilTheOldestLeavesTheWindow(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	l := newLimiter(c, 3)
	for i := range 3 {
		if w := l.Wait("a"); w != 0 {
			t.Fatalf("attempt %d: wait %v, want 0", i+1, w)
		}
		l.Fail("a")
		c.advance(time.Minute)
	}
	// Failures at 12:00, 12:01, 12:02; now 12:03.
	if w := l.Wait("a"); w != 7*time.Minute {
		t.Fatalf("after 3 failures: wait %v, want 7m", w)
	}
	if w := l.Wait("b"); w != 0 {
		t.Errorf("another key waits %v", w)
	}
	c.advance(7 * time.Minute) // 12:10: the 12:00 failure leaves the window
	if w := l.Wait("a"); w != 0 {
		t.Fatalf("at 12:10: wait %v, want 0", w)
	}
	l.Fail("a") // 12:01, 12:02, 12:10
	if w := l.Wait("a"); w != time.Minute {
		t.Errorf("after a fourth failure: wait %v, want 1m (until 12:11)", w)
	}
}

func TestForget(t *testing.T) {
	c := &clock{t: time.Now()}
	l := newLimiter(c, 2)
	l.Fail("a")
	l.Fail("a")
	if l.Wait("a") == 0 {
		t.Fatal("not blocked after 2 failures")
	}
	l.Forget("a")
	if w := l.Wait("a"); w != 0 {
		t.Errorf("after Forget: wait %v", w)
	}
}

func TestSweepDropsExpiredKeys(t *testing.T) {
	c := &clock{t: time.Now()}
	l := newLimiter(c, 5)
	for i := range sweepEvery - 1 {
		l.Fail(fmt.Sprint("old", i))
	}
	c.advance(11 * time.Minute)
	l.Fail("new") // the sweepEvery-th new key
	if len(l.fails) != 1 {
		t.Errorf("%d keys kept, want only the fresh one", len(l.fails))
	}
}

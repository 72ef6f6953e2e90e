package pgtest

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds, and fails the test (naming what it
// waited for) if it has not within 10 seconds. It is the one poll of the
// tests, for what a real PostgreSQL server does in its own time — a
// notification delivered, a listener reconnected — where a synctest bubble
// cannot hold the time. Code that only waits on timers and goroutines is
// tested in a bubble instead (testing/synctest), without polling.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

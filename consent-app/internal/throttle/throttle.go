// Package throttle counts failed attempts per key (an account, a client
// address) in a sliding window and says how long a key must wait once it has
// failed too often. State is in memory: one consent-app instance counts its
// own attempts, and a restart forgets them.
package throttle

import (
	"sync"
	"time"
)

// sweepEvery bounds memory: after this many new keys, keys whose failures
// have all left the window are dropped.
const sweepEvery = 1024

// Limiter allows Max failures per key within Window.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	fails   map[string][]time.Time // oldest first, at most max entries
	newKeys int
}

// New returns a Limiter that blocks a key after max failures within window.
func New(max int, window time.Duration) *Limiter {
	return &Limiter{max: max, window: window, now: time.Now, fails: map[string][]time.Time{}}
}

// Wait returns how long key must wait before its next attempt; 0 means it
// may try now.
func (l *Limiter) Wait(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(key)
	if len(recent) < l.max {
		return 0
	}
	// The oldest failure that still counts leaves the window first.
	return recent[len(recent)-l.max].Add(l.window).Sub(l.now())
}

// Fail records a failed attempt of key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(key)
	if recent == nil {
		if l.newKeys++; l.newKeys >= sweepEvery {
			l.sweep()
		}
	}
	recent = append(recent, l.now())
	if len(recent) > l.max {
		recent = recent[len(recent)-l.max:]
	}
	l.fails[key] = recent
}

// Forget clears key's failures, as after a successful sign-in.
func (l *Limiter) Forget(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

// recent returns key's failures inside the window. l.mu must be held.
func (l *Limiter) recent(key string) []time.Time {
	times := l.fails[key]
	cutoff := l.now().Add(-l.window)
	i := 0
	for i < len(times) && !times[i].After(cutoff) {
		i++
	}
	if i == len(times) {
		delete(l.fails, key)
		return nil
	}
	return times[i:]
}

// sweep drops keys without failures in the window. l.mu must be held.
func (l *Limiter) sweep() {
	l.newKeys = 0
	for key := range l.fails {
		l.recent(key)
	}
}

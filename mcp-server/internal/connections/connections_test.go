package connections

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
	"github.com/mcp-oauth/ops/pgtest"
)

// source is a database stand-in: it counts reads per id and can hold a read
// until released.
type source struct {
	mu      sync.Mutex
	reads   map[string]int
	revoked map[string]bool
	hold    chan struct{} // non-nil: reads wait for it
	started chan struct{} // signalled when a held read starts
}

func newSource() *source {
	return &source{reads: map[string]int{}, revoked: map[string]bool{}}
}

func (s *source) Connection(_ context.Context, id string) (store.Connection, error) {
	s.mu.Lock()
	s.reads[id]++
	hold, started := s.hold, s.started
	revoked := s.revoked[id]
	s.mu.Unlock()
	if hold != nil {
		started <- struct{}{}
		<-hold
	}
	if id == "missing" {
		return store.Connection{}, store.ErrNotFound
	}
	c := store.Connection{ID: id, TeamID: "team"}
	if revoked {
		now := time.Now()
		c.RevokedAt = &now
	}
	return c, nil
}

func (s *source) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[id]
}

func lookup(t *testing.T, c *Cache, id string) store.Connection {
	t.Helper()
	conn, err := c.Connection(t.Context(), id)
	if err != nil {
		t.Fatalf("Connection(%s): %v", id, err)
	}
	return conn
}

func TestCacheKeepsNothingWhileNotListening(t *testing.T) {
	src := newSource()
	c := New(src, Options{TTL: time.Minute})
	lookup(t, c, "a")
	lookup(t, c, "a")
	if n := src.count("a"); n != 2 {
		t.Errorf("not listening: %d reads for two lookups, want 2 (every request checks the database)", n)
	}
	c.setListening(true)
	lookup(t, c, "a")
	lookup(t, c, "a")
	if n := src.count("a"); n != 3 {
		t.Errorf("listening: %d reads, want 3 (one more, then from memory)", n)
	}
	c.setListening(false) // the listener lost its connection
	lookup(t, c, "a")
	if n := src.count("a"); n != 4 {
		t.Errorf("after losing the listener: %d reads, want 4: nothing held may be trusted", n)
	}
}

func TestCacheDropAndExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	src := newSource()
	c := New(src, Options{TTL: time.Minute, Now: clock})
	c.setListening(true)

	lookup(t, c, "a")
	lookup(t, c, "b")
	src.mu.Lock()
	src.revoked["a"] = true
	src.mu.Unlock()
	if lookup(t, c, "a").RevokedAt != nil {
		t.Fatal("the cache answered from the source without a miss")
	}
	c.Drop("a") // the revocation's notification
	if lookup(t, c, "a").RevokedAt == nil {
		t.Error("after Drop the revoked connection is still live")
	}
	if src.count("b") != 1 {
		t.Error("Drop of a also dropped b")
	}
	for range 2 { // not found is never kept
		if _, err := c.Connection(t.Context(), "missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing connection: %v", err)
		}
	}
	if n := src.count("missing"); n != 2 {
		t.Errorf("missing connection read %d times, want 2", n)
	}

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	lookup(t, c, "b")
	if n := src.count("b"); n != 2 {
		t.Errorf("after TTL: %d reads of b, want 2", n)
	}
}

// A read that started before a revocation must not be kept after the
// notification that revoked it: the notification may arrive while the read
// is still on its way back.
func TestCacheRefusesAnswerOlderThanANotification(t *testing.T) {
	src := newSource()
	hold := make(chan struct{})
	src.hold, src.started = hold, make(chan struct{})
	c := New(src, Options{TTL: time.Minute})
	c.setListening(true)
	done := make(chan store.Connection)
	go func() {
		conn, _ := c.Connection(context.Background(), "a")
		done <- conn
	}()
	<-src.started
	c.Drop("a") // revoked while the read was in flight
	src.mu.Lock()
	src.hold, src.revoked["a"] = nil, true
	src.mu.Unlock()
	close(hold)
	<-done
	if lookup(t, c, "a").RevokedAt == nil {
		t.Fatal("the answer read before the notification was kept")
	}
}

func TestCacheWithoutTTLNeverKeeps(t *testing.T) {
	src := newSource()
	c := New(src, Options{})
	c.setListening(true)
	lookup(t, c, "a")
	lookup(t, c, "a")
	if n := src.count("a"); n != 2 {
		t.Errorf("TTL 0: %d reads, want 2", n)
	}
}

func TestCacheBoundsEntries(t *testing.T) {
	c := New(newSource(), Options{TTL: time.Minute, MaxEntries: 3})
	c.setListening(true)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		lookup(t, c, id)
	}
	c.mu.Lock()
	n := c.entries.Len()
	c.mu.Unlock()
	if n > 3 {
		t.Errorf("%d entries, want at most 3", n)
	}
}

// listenerDB connects listeners under a name of this test's own, so that
// terminating them touches no other test's (or stack's) listener. While
// refuse is set, connecting fails, as with the database out of reach.
func listenerDB(t *testing.T, refuse *atomic.Bool) (Connect, string, *pgxpool.Pool) {
	t.Helper()
	dsn := pgtest.URL(t)
	name := "connections-test-" + strings.ToLower(rand.Text()[:8])
	admin, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	return func(ctx context.Context) (*pgx.Conn, error) {
		if refuse.Load() {
			return nil, errors.New("database unreachable (test)")
		}
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, err
		}
		cfg.RuntimeParams["application_name"] = name
		return pgx.ConnectConfig(ctx, cfg)
	}, name, admin
}

// TestListen runs the listener against PostgreSQL: a notification on the
// channel drops the entry; a listener whose connection is killed stops the
// cache (every lookup reads the source) until it has reconnected.
func TestListen(t *testing.T) {
	var refuse atomic.Bool
	connect, appName, admin := listenerDB(t, &refuse)
	src := newSource()
	c := New(src, Options{TTL: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	var states []bool
	var mu sync.Mutex
	stopped := make(chan struct{})
	go func() {
		c.Listen(ctx, connect, storetest.Discard, ListenOptions{MaxRetry: 50 * time.Millisecond, OnState: func(on bool) {
			mu.Lock()
			states = append(states, on)
			mu.Unlock()
		}})
		close(stopped)
	}()
	pgtest.Eventually(t, "the listener", c.Listening)

	// The id is this test's own: other tests may notify the same channel.
	id := "conn-" + rand.Text()
	// Another test's notification during a read keeps that read from being
	// kept (see Cache.epoch), hence "eventually".
	held := func() bool {
		lookup(t, c, id)
		before := src.count(id)
		lookup(t, c, id)
		return src.count(id) == before
	}
	pgtest.Eventually(t, "the entry to be kept", held)
	if _, err := admin.Exec(t.Context(), `SELECT pg_notify($1, $2)`, contract.ConnectionChanged, id); err != nil {
		t.Fatal(err)
	}
	n := src.count(id)
	pgtest.Eventually(t, "the notification to drop the entry", func() bool { lookup(t, c, id); return src.count(id) > n })

	// Kill the listener's connection and keep it from reconnecting: the
	// cache stops at once, and every lookup reads the source until the
	// listener is back.
	refuse.Store(true)
	if _, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, appName); err != nil {
		t.Fatal(err)
	}
	pgtest.Eventually(t, "the listener to notice", func() bool { return !c.Listening() })
	before := src.count(id)
	lookup(t, c, id)
	lookup(t, c, id)
	if got := src.count(id) - before; got != 2 {
		t.Errorf("without a listener: %d reads for two lookups, want 2", got)
	}
	refuse.Store(false)
	pgtest.Eventually(t, "the listener to reconnect", c.Listening)
	pgtest.Eventually(t, "the entry to be kept again", held)
	n = src.count(id)
	if _, err := admin.Exec(t.Context(), `SELECT pg_notify($1, $2)`, contract.ConnectionChanged, id); err != nil {
		t.Fatal(err)
	}
	pgtest.Eventually(t, "notifications after the reconnect", func() bool { lookup(t, c, id); return src.count(id) > n })

	cancel()
	<-stopped
	if c.Listening() {
		t.Error("still listening after Listen returned")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(states) < 4 || !states[0] || states[1] || !states[2] || states[len(states)-1] {
		t.Errorf("listener states %v, want up, down, up, …, down", states)
	}
}

// Package connections keeps what the gate knows about connections —
// whether each exists, is revoked, which team it belongs to and the scopes
// granted to it — in memory, so that a request does not pay a database round
// trip for it, and keeps that memory exactly as fresh as the database.
//
// Freshness comes from PostgreSQL LISTEN/NOTIFY: the consent app's schema
// notifies channel connection_changed (contract.ConnectionChanged) with the
// connection's id in the same transaction that revokes, moves or deletes a
// connection or changes its scopes, and ending a membership revokes the member's connections in its
// transaction (consent app migrations 00003 and 00004). Every replica
// listens (Listen) and drops what it holds about that id on delivery, so a
// revocation reaches all replicas at commit, not when an entry expires.
//
// A replica that is not listening — before the listener connects, after it
// lost its connection, until it listens again — caches nothing and asks the
// database on every request: it never serves an answer it could have missed
// a change to. Entries also expire after TTL, a bound for the one case
// notifications cannot cover: a listener connection that died without the
// replica noticing yet (at most one heartbeat; see ListenOptions).
package connections

import (
	"context"
	"sync"
	"time"

	"github.com/mcp-oauth/mcp-server/internal/expiring"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

// Source reads a connection from the database; *store.Store is one.
type Source interface {
	Connection(ctx context.Context, id string) (store.Connection, error)
}

// Options configure a Cache.
type Options struct {
	// TTL bounds how long an entry is used; zero = never cache (every
	// request asks Source).
	TTL time.Duration
	// MaxEntries bounds memory; zero = 100000.
	MaxEntries int
	// OnLookup is told whether each lookup was answered from memory; nil =
	// nobody.
	OnLookup func(hit bool)
	// Now returns the current time; nil = time.Now.
	Now func() time.Time
}

// Cache answers Connection lookups from memory while its listener is
// connected (see the package doc), and from Source otherwise. It implements
// gate.Connections.
type Cache struct {
	src  Source
	opts Options

	mu      sync.Mutex
	entries *expiring.Map[string, store.Connection]
	// listening is true while the listener receives notifications; only
	// then is anything kept.
	listening bool
	// epoch changes with every invalidation. A lookup keeps its answer only
	// if the epoch did not change while it read the database, so an answer
	// read before a revocation cannot be kept after the notification that
	// was meant to drop it.
	epoch uint64
}

// New returns a Cache in front of src. It caches nothing until Listen
// connects.
func New(src Source, opts Options) *Cache {
	if opts.MaxEntries == 0 {
		opts.MaxEntries = 100_000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache{src: src, opts: opts, entries: expiring.New[string, store.Connection](opts.MaxEntries)}
}

// Connection returns the connection with id, from memory when it may.
// Missing connections and errors are never kept.
func (c *Cache) Connection(ctx context.Context, id string) (store.Connection, error) {
	c.mu.Lock()
	if conn, ok := c.entries.Get(id, c.opts.Now()); ok {
		c.mu.Unlock()
		c.observe(true)
		return conn, nil
	}
	epoch, keep := c.epoch, c.listening && c.opts.TTL > 0
	c.mu.Unlock()
	c.observe(false)

	conn, err := c.src.Connection(ctx, id)
	if err != nil || !keep {
		return conn, err
	}
	c.mu.Lock()
	if c.listening && c.epoch == epoch {
		now := c.opts.Now()
		c.entries.Put(id, conn, now.Add(c.opts.TTL), now)
	}
	c.mu.Unlock()
	return conn, nil
}

// Drop forgets the connection with id: a notification said it changed.
func (c *Cache) Drop(id string) {
	c.mu.Lock()
	c.entries.Delete(id)
	c.epoch++
	c.mu.Unlock()
}

// setListening starts or stops caching. Either way everything held is
// forgotten: notifications may have been missed while not listening.
func (c *Cache) setListening(on bool) {
	c.mu.Lock()
	c.listening = on
	c.entries.Clear()
	c.epoch++
	c.mu.Unlock()
}

// Listening reports whether the cache is in use (its listener is
// connected).
func (c *Cache) Listening() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listening
}

func (c *Cache) observe(hit bool) {
	if c.opts.OnLookup != nil {
		c.opts.OnLookup(hit)
	}
}

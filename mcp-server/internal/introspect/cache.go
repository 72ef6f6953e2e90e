package introspect

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/mcp-oauth/mcp-server/internal/expiring"
)

// Introspector answers for a token; Client is one.
type Introspector interface {
	Introspect(ctx context.Context, token string) (*Result, error)
}

// CacheOptions configure NewCache.
type CacheOptions struct {
	// MaxTTL bounds how long an answer is reused; the token's own expiry
	// bounds it too. It is also how long a token that Hydra revoked may
	// still be accepted (revoking a connection takes effect at once: the
	// gate checks the connection on every request). Zero = never reuse an
	// answer, though concurrent calls for one token still share one lookup.
	MaxTTL time.Duration
	// MaxEntries bounds the memory used; zero = 10000.
	MaxEntries int
	// CallTimeout bounds one lookup, which runs detached from the request
	// that started it so that its other waiters are not cut off when that
	// request goes away; zero = 10s.
	CallTimeout time.Duration
	// Now returns the current time; nil = time.Now.
	Now func() time.Time
	// OnLookup is told whether each lookup was answered from the cache; nil
	// = nobody is told.
	OnLookup func(hit bool)
}

// Cache remembers the answers for active tokens, keyed by a SHA-256 hash of
// the token (the token itself is never kept), and makes concurrent misses
// for one token share a single call to next. Only answers for active tokens
// with an expiry are kept; inactive tokens and errors are asked again each
// time. The returned Result is shared: callers must not modify it.
type Cache struct {
	next Introspector
	opts CacheOptions

	mu      sync.Mutex
	entries *expiring.Map[[sha256.Size]byte, *Result]
	calls   map[[sha256.Size]byte]*call
}

// call is one lookup in flight; res and err are set before done closes.
type call struct {
	done chan struct{}
	res  *Result
	err  error
}

// NewCache returns a Cache in front of next.
func NewCache(next Introspector, opts CacheOptions) *Cache {
	if opts.MaxEntries == 0 {
		opts.MaxEntries = 10_000
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Cache{
		next:    next,
		opts:    opts,
		entries: expiring.New[[sha256.Size]byte, *Result](opts.MaxEntries),
		calls:   make(map[[sha256.Size]byte]*call),
	}
}

// Introspect returns the remembered answer for token or asks next, sharing
// a lookup already in flight for the same token.
func (c *Cache) Introspect(ctx context.Context, token string) (*Result, error) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	if res, ok := c.entries.Get(key, c.opts.Now()); ok {
		c.mu.Unlock()
		c.observe(true)
		return res, nil
	}
	c.observe(false)
	cl, inFlight := c.calls[key]
	if !inFlight {
		cl = &call{done: make(chan struct{})}
		c.calls[key] = cl
		go c.lookup(key, token, cl)
	}
	c.mu.Unlock()

	select {
	case <-cl.done:
		return cl.res, cl.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Cache) lookup(key [sha256.Size]byte, token string, cl *call) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.CallTimeout)
	defer cancel()
	res, err := c.next.Introspect(ctx, token)

	c.mu.Lock()
	delete(c.calls, key)
	if err == nil {
		now := c.opts.Now()
		if ttl := c.ttl(res, now); ttl > 0 {
			c.entries.Put(key, res, now.Add(ttl), now)
		}
	}
	c.mu.Unlock()
	cl.res, cl.err = res, err
	close(cl.done)
}

// ttl is how long res may be reused: until the token expires, at most
// MaxTTL; zero for an answer not worth keeping.
func (c *Cache) ttl(res *Result, now time.Time) time.Duration {
	if !res.Active || res.Expiry == 0 {
		return 0
	}
	return min(time.Unix(res.Expiry, 0).Sub(now), c.opts.MaxTTL)
}

func (c *Cache) observe(hit bool) {
	if c.opts.OnLookup != nil {
		c.opts.OnLookup(hit)
	}
}

package connections

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog/contract"
)

// ApplicationName names the listener's database connection, so that
// operators (and tests) can find it in pg_stat_activity.
const ApplicationName = "mcp-server connection listener"

// ListenOptions configure Listen; zero fields take the defaults.
type ListenOptions struct {
	// Heartbeat is how long the listener waits for a notification before it
	// checks that its connection still works; default 5s. It bounds how long
	// a connection that died silently (no reset reaches the replica) goes
	// unnoticed.
	Heartbeat time.Duration
	// PingTimeout bounds that check; default 2s.
	PingTimeout time.Duration
	// MaxRetry is the longest wait between attempts to connect again;
	// default 10s.
	MaxRetry time.Duration
	// OnState is told when the listener starts (true) or stops (false)
	// receiving notifications; nil = nobody.
	OnState func(listening bool)
	// OnNotification is told about each notification; nil = nobody.
	OnNotification func()
}

// Connect opens the listener's own database connection.
type Connect func(ctx context.Context) (*pgx.Conn, error)

// Listen keeps a connection listening on contract.ConnectionChanged and
// drops the cache entries of the connections it hears about, until ctx
// ends. While it is not listening the cache keeps nothing (see Cache).
func (c *Cache) Listen(ctx context.Context, connect Connect, log *slog.Logger, opts ListenOptions) {
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 5 * time.Second
	}
	if opts.PingTimeout == 0 {
		opts.PingTimeout = 2 * time.Second
	}
	if opts.MaxRetry == 0 {
		opts.MaxRetry = 10 * time.Second
	}
	retry := 100 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := connect(ctx)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+contract.ConnectionChanged)
		}
		if err != nil {
			if conn != nil {
				conn.Close(context.WithoutCancel(ctx))
			}
			if ctx.Err() != nil {
				return
			}
			log.WarnContext(ctx, "connection listener cannot listen; every request checks the database until it can", "err", err, "retry_in", retry.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
			retry = min(2*retry, opts.MaxRetry)
			continue
		}
		retry = 100 * time.Millisecond
		c.setListening(true)
		c.state(opts, true)
		log.InfoContext(ctx, "connection listener listening", "channel", contract.ConnectionChanged)
		err = c.receive(ctx, conn, log, opts)
		c.setListening(false)
		c.state(opts, false)
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return
		}
		log.WarnContext(ctx, "connection listener lost its connection; every request checks the database until it is back", "err", err)
	}
}

// receive handles notifications until the connection fails or ctx ends.
func (c *Cache) receive(ctx context.Context, conn *pgx.Conn, log *slog.Logger, opts ListenOptions) error {
	for {
		wait, cancel := context.WithTimeout(ctx, opts.Heartbeat)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			log.DebugContext(ctx, "connection changed; cached state dropped", "connection_id", n.Payload)
			c.Drop(n.Payload)
			if opts.OnNotification != nil {
				opts.OnNotification()
			}
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		// Quiet for a heartbeat: make sure the connection still answers.
		ping, cancel := context.WithTimeout(ctx, opts.PingTimeout)
		err = conn.Ping(ping)
		cancel()
		if err != nil {
			return err
		}
	}
}

func (c *Cache) state(opts ListenOptions, on bool) {
	if opts.OnState != nil {
		opts.OnState(on)
	}
}

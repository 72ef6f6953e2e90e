// Package service is the one skeleton both service binaries run on: the
// command line (a command name, the first one by default, nothing after
// it), the JSON logger with request ids, SIGINT/SIGTERM, the configuration
// check before anything connects, the PostgreSQL pool, the migration lock,
// and the HTTP server that drains in-flight requests on the signal.
//
// A service declares its commands and how to read its configuration; each
// command says what it needs before it runs (nothing, a valid
// configuration, or that and a database pool), so every command of both
// services is refused, checked and set up the same way.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/ops/envconfig"
	"github.com/mcp-oauth/ops/health"
	"github.com/mcp-oauth/ops/requestid"
)

// Common is what the skeleton itself needs from a service's configuration.
type Common struct {
	Mode        envconfig.Mode
	LogLevel    slog.Level
	ListenAddr  string
	DatabaseURL string
}

// Config is a service's configuration: read from the environment (possibly
// with problems), then validated.
type Config interface {
	// Validate reports every problem at once.
	Validate() error
	// Common returns the settings the skeleton uses.
	Common() Common
}

// Needs is what a command is given before it runs.
type Needs int

const (
	// NeedsNothing: the configuration as read, not validated (config-vars,
	// healthcheck: they must work whatever the environment holds).
	NeedsNothing Needs = iota
	// NeedsConfig: a valid configuration, LOG_LEVEL applied.
	NeedsConfig
	// NeedsDatabase: that, and an open pool that answered a ping.
	NeedsDatabase
)

// Command is one thing a service binary does.
type Command[C Config] struct {
	Name  string
	Needs Needs
	// DevelopmentOnly, when set, is why the command refuses MODE=production
	// (it is the error message).
	DevelopmentOnly string
	Run             func(ctx context.Context, env Env[C]) error
}

// Env is what a command runs with.
type Env[C Config] struct {
	Config C
	Log    *slog.Logger
	// Pool is set for NeedsDatabase commands; the skeleton closes it.
	Pool   *pgxpool.Pool
	Stdout io.Writer
}

// Service is one binary.
type Service[C Config] struct {
	// Name is the binary's name, in messages.
	Name string
	// Commands; the first is the default when there is no argument.
	Commands []Command[C]
	// Load reads the configuration from the environment; the skeleton
	// validates it for the commands that need it.
	Load func() C
	// Pool configures the pool NeedsDatabase commands get.
	Pool PoolOptions
}

// NewLogger is both services' logger: JSON on w with the request id of the
// context, at info until the configuration names a level through the
// returned LevelVar.
func NewLogger(w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	return slog.New(requestid.NewLogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))), level
}

// Main runs the command os.Args names until it ends or SIGINT/SIGTERM
// cancels it, and exits 1 when it failed (logged as "<name> failed", with
// the command and the error).
func (s Service[C]) Main() {
	log, level := NewLogger(os.Stderr)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := s.Run(ctx, os.Args[1:], log, level, os.Stdout)
	stop()
	if err != nil {
		log.Error(s.Name+" failed", "command", s.commandName(os.Args[1:]), "err", err)
		os.Exit(1)
	}
}

func (s Service[C]) commandName(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	if len(s.Commands) > 0 {
		return s.Commands[0].Name
	}
	return ""
}

// Run runs the command args name (the first of Commands when args is
// empty): it refuses an unknown command or anything after it, reads the
// configuration, validates it and applies LOG_LEVEL to level, refuses a
// development-only command in production, and opens the pool, as the
// command needs.
func (s Service[C]) Run(ctx context.Context, args []string, log *slog.Logger, level *slog.LevelVar, stdout io.Writer) error {
	name := s.commandName(args)
	if len(args) > 1 {
		return fmt.Errorf("unexpected arguments after %q: %q", name, args[1:])
	}
	var cmd *Command[C]
	for i := range s.Commands {
		if s.Commands[i].Name == name {
			cmd = &s.Commands[i]
			break
		}
	}
	if cmd == nil {
		return fmt.Errorf("unknown command %q; use %s", name, s.usage())
	}
	env := Env[C]{Config: s.Load(), Log: log, Stdout: stdout}
	if cmd.Needs == NeedsNothing {
		return cmd.Run(ctx, env)
	}
	if err := env.Config.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	common := env.Config.Common()
	level.Set(common.LogLevel)
	if cmd.DevelopmentOnly != "" && common.Mode != envconfig.Development {
		return errors.New(cmd.DevelopmentOnly)
	}
	if cmd.Needs == NeedsDatabase {
		pool, err := OpenPool(ctx, common.DatabaseURL, s.Pool)
		if err != nil {
			return err
		}
		defer pool.Close()
		env.Pool = pool
	}
	return cmd.Run(ctx, env)
}

// usage lists the commands: "serve (default), migrate or config-vars".
func (s Service[C]) usage() string {
	names := make([]string, len(s.Commands))
	for i, c := range s.Commands {
		names[i] = c.Name
	}
	if len(names) == 0 {
		return "nothing"
	}
	names[0] += " (default)"
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ConfigVars is the config-vars command: it prints the README's table of
// the service's environment variables.
func ConfigVars[C Config](service string, vars []envconfig.Var) Command[C] {
	return Command[C]{Name: "config-vars", Run: func(_ context.Context, env Env[C]) error {
		_, err := io.WriteString(env.Stdout, envconfig.Markdown(service, vars))
		return err
	}}
}

// Healthcheck is the healthcheck command: it succeeds when the server on
// LISTEN_ADDR answers /readyz, a container health check on an image without
// a shell.
func Healthcheck[C Config]() Command[C] {
	return Command[C]{Name: "healthcheck", Run: func(ctx context.Context, env Env[C]) error {
		return health.SelfCheck(ctx, env.Config.Common().ListenAddr)
	}}
}

// PoolOptions are what differs between the services' pools.
type PoolOptions struct {
	// PingOnAcquire pings every connection as it is acquired, not only
	// after it idled a second (pgx's default). It costs a round trip per
	// acquire, and buys that a connection a PostgreSQL restart cut fails
	// the ping rather than the request.
	PingOnAcquire bool
}

// startPingTimeout bounds the ping OpenPool makes at start.
const startPingTimeout = 10 * time.Second

// OpenPool configures the pool and pings once, so that a wrong
// DATABASE_URL or an unreachable server fails at start rather than as 503s
// on the first requests.
func OpenPool(ctx context.Context, databaseURL string, opts PoolOptions) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parser's message may quote the URL, password included.
		return nil, errors.New("DATABASE_URL: not a PostgreSQL connection URL")
	}
	if opts.PingOnAcquire {
		pc.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, errors.New("DATABASE_URL: cannot configure the database pool")
	}
	pingCtx, cancel := context.WithTimeout(ctx, startPingTimeout)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// migrationLock is the advisory lock key every service's migrations take.
// One key for both services, which migrate the same database: their
// migrations run one at a time, never side by side.
const migrationLock = "mcp-oauth:migrations"

// Migrate runs migrate holding a PostgreSQL session advisory lock, so that
// two replicas (or both services) starting at once cannot race on the same
// schema; the second waits for the first, then finds nothing to do.
func Migrate(ctx context.Context, pool *pgxpool.Pool, migrate func(context.Context) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext($1))`, migrationLock); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext($1))`, migrationLock); err != nil {
			// A session lock ends with its session: close it rather than
			// return a connection that still holds the lock to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return migrate(ctx)
}

// Drain timeouts: how long in-flight requests get after the signal. Both
// fit in Kubernetes' default 30 s grace period with room for what the
// services do after the drain (the MCP server's last audit batch).
const DrainTimeout = 15 * time.Second

// NewHTTPServer is the public HTTP server both services start from: bounded
// header reads and idle connections, and the server's own complaints (TLS
// handshakes, panics) in the JSON log at warn. A service adds what only it
// needs (read and write timeouts).
func NewHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// ListenAndServe listens on srv.Addr, logs msg with the bound address and
// attrs, and serves until ctx ends; see Serve.
func ListenAndServe(ctx context.Context, srv *http.Server, log *slog.Logger, msg string, attrs ...any) error {
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return err
	}
	log.Info(msg, append([]any{"addr", ln.Addr().String()}, attrs...)...)
	return Serve(ctx, srv, ln, log, DrainTimeout)
}

// Serve serves ln until ctx ends, then drains: it stops accepting and lets
// in-flight requests finish for up to drain. It returns nil after a clean
// drain, the server's error if it stopped by itself, and an error when
// requests were still running at the deadline.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, log *slog.Logger, drain time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-errc // http.ErrServerClosed
	log.Info("stopped")
	return nil
}

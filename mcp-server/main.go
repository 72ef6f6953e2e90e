// Command mcp-server is the OAuth-protected MCP resource server.
//
//	mcp-server [serve]   serve MCP, metadata and /healthz (default)
//	mcp-server migrate   apply the database migrations and exit
//	mcp-server seed-demo add the demo invoices and exit (idempotent; development only)
//	mcp-server healthcheck  exit 0 when the running server is ready (container health checks)
//	mcp-server config-vars  print the README's table of environment variables
//
// All configuration comes from the environment; see internal/config.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mcp-oauth/mcp-server/internal/audit"
	"github.com/mcp-oauth/mcp-server/internal/config"
	"github.com/mcp-oauth/mcp-server/internal/connections"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/mcp-server/internal/server"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/telemetry"
	"github.com/mcp-oauth/mcp-server/internal/tools"
	"github.com/mcp-oauth/ops/envconfig"
	"github.com/mcp-oauth/ops/health"
	"github.com/mcp-oauth/ops/metrics"
	"github.com/mcp-oauth/ops/requestid"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	// Info until the configuration names a level (LOG_LEVEL).
	level := new(slog.LevelVar)
	log := slog.New(requestid.NewLogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	if err := run(log, level, os.Args[1:]); err != nil {
		log.Error("mcp-server failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, level *slog.LevelVar, args []string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	if len(args) > 1 {
		return fmt.Errorf("unexpected arguments after %q: %q", cmd, args[1:])
	}
	switch cmd {
	case "serve", "migrate", "seed-demo":
	case "config-vars":
		fmt.Print(envconfig.Markdown("mcp-server", config.Vars))
		return nil
	case "healthcheck":
		return health.SelfCheck(context.Background(), config.FromEnv(os.Getenv).ListenAddr)
	default:
		return fmt.Errorf("unknown command %q; use serve (default), migrate, seed-demo, healthcheck or config-vars", cmd)
	}

	cfg := config.FromEnv(os.Getenv)
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	level.Set(cfg.LogLevel)
	if cmd == "seed-demo" && cfg.Mode == envconfig.Production {
		return errors.New("seed-demo adds demo data; it runs only with MODE=development")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()

	switch cmd {
	case "migrate":
		return store.Migrate(ctx, pool, log)
	case "seed-demo":
		return store.New(pool).SeedDemo(ctx, log)
	}
	return serve(ctx, log, cfg, pool, store.New(pool))
}

// openPool connects and pings, so a wrong DATABASE_URL fails at start rather
// than as 503s on the first requests.
func openPool(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return nil, errors.New("DATABASE_URL: cannot configure the database pool")
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

func serve(ctx context.Context, log *slog.Logger, cfg config.Config, pool *pgxpool.Pool, st *store.Store) error {
	if gc := gcSettings(os.LookupEnv, os.ReadFile); gc.percent > 0 || gc.limit > 0 {
		if gc.percent > 0 {
			debug.SetGCPercent(gc.percent)
		}
		if gc.limit > 0 {
			debug.SetMemoryLimit(gc.limit)
		}
		log.Info("garbage collector tuned", "gogc", gc.percent, "memory_limit_bytes", gc.limit)
	}
	reg := metrics.NewRegistry()
	if err := metrics.Serve(ctx, cfg.MetricsAddr, reg, log); err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	m := telemetry.New(reg)
	hydra := m.TimedIntrospector(introspect.New(cfg.IntrospectionURL(), &http.Client{Timeout: cfg.VerifyTimeout}))
	conns := connections.New(st, connections.Options{TTL: cfg.ConnectionCacheTTL, OnLookup: m.ConnectionLookup})
	if cfg.ConnectionCacheTTL > 0 {
		go conns.Listen(ctx, listenerConnect(pool), log, connections.ListenOptions{
			OnState: m.ConnectionListener, OnNotification: m.ConnectionNotification})
	}
	// The audit log is written after the HTTP server has drained, so that
	// the last requests' events are kept.
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAudit()
	recorder := audit.New(st, log, audit.Options{OnDrop: m.AuditDropped})
	auditDone := make(chan struct{})
	go func() { recorder.Run(auditCtx); close(auditDone) }()
	go audit.Prune(ctx, st, cfg.AuditRetention, time.Hour, log)
	protect := gate.New(gate.Options{
		Resource: cfg.ResourceURL,
		Introspector: introspect.NewCache(hydra, introspect.CacheOptions{
			MaxTTL:      cfg.IntrospectionCacheTTL,
			CallTimeout: cfg.VerifyTimeout,
			OnLookup:    m.CacheLookup,
		}),
		Connections:         conns,
		Timeout:             cfg.VerifyTimeout,
		Logger:              log,
		OnInsufficientScope: recorder.Denied,
		Issuer:              cfg.AuthIssuer,
	})
	if benchBuild != nil {
		var err error
		if protect, err = benchBuild(ctx, cfg, os.Getenv, log, protect); err != nil {
			return err
		}
	}
	handler := server.Handler(server.Options{
		Resource: cfg.ResourceURL,
		Issuer:   cfg.AuthIssuer,
		Ready: health.Ready(map[string]health.Check{
			"postgres":    pool.Ping,
			"hydra_admin": health.HTTPCheck(&http.Client{Timeout: health.CheckTimeout}, strings.TrimSuffix(cfg.HydraAdminURL, "/")+"/health/ready"),
		}),
		Metrics: m,
		Gate:    protect,
		MCP: tools.NewServer(tools.Options{Store: st, Logger: log, Version: version(),
			Middleware: []mcp.Middleware{m.ToolCalls, recorder.Middleware}}),
		Logger: log,
	})
	srv := &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	log.Info("mcp-server listening", "addr", ln.Addr().String(), "resource", cfg.ResourceURL, "issuer", cfg.AuthIssuer, "mode", cfg.Mode)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain: stop accepting, let in-flight requests finish.
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopAudit()
	<-auditDone
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// listenerConnect opens the revocation listener's own connection (a LISTEN
// holds it), named so that operators see it in pg_stat_activity.
func listenerConnect(pool *pgxpool.Pool) connections.Connect {
	return func(ctx context.Context) (*pgx.Conn, error) {
		cfg := pool.Config().ConnConfig.Copy()
		cfg.RuntimeParams["application_name"] = connections.ApplicationName
		return pgx.ConnectConfig(ctx, cfg)
	}
}

// benchBuild is nil except in the benchmark build (benchbuild.go, build tag
// bench), where it can switch the gate off and serve profiles, so that
// scripts/bench can measure what authorization costs. No other build
// contains that code.
var benchBuild func(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger,
	protect func(http.Handler) http.Handler) (func(http.Handler) http.Handler, error)

// version is the module version stamped by the Go toolchain, for the MCP
// server's implementation info.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

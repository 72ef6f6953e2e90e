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
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
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
	"github.com/mcp-oauth/ops/health"
	"github.com/mcp-oauth/ops/metrics"
	"github.com/mcp-oauth/ops/service"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() { mcpServer.Main() }

// mcpServer is the binary: its commands on the shared skeleton.
var mcpServer = service.Service[config.Config]{
	Name: "mcp-server",
	Load: func() config.Config { return config.FromEnv(os.Getenv) },
	// Deliberately no ping on acquire (pgx pings a connection only after it
	// idled a second), unlike the consent app: every MCP request acquires
	// connections on its hot path, and a ping would add a database round
	// trip to each. A connection a PostgreSQL restart cut fails its one
	// request with a 503 (e2e TestFaults, "postgres restarted").
	Pool: service.PoolOptions{PingOnAcquire: false},
	Commands: []service.Command[config.Config]{
		{Name: "serve", Needs: service.NeedsDatabase, Run: serve},
		{Name: "migrate", Needs: service.NeedsDatabase, Run: func(ctx context.Context, env service.Env[config.Config]) error {
			return service.Migrate(ctx, env.Pool, func(ctx context.Context) error { return store.Migrate(ctx, env.Pool, env.Log) })
		}},
		{Name: "seed-demo", Needs: service.NeedsDatabase,
			DevelopmentOnly: "seed-demo adds demo data; it runs only with MODE=development",
			Run: func(ctx context.Context, env service.Env[config.Config]) error {
				return store.New(env.Pool).SeedDemo(ctx, env.Log)
			}},
		service.Healthcheck[config.Config](),
		service.ConfigVars[config.Config]("mcp-server", config.Vars),
	},
}

func serve(ctx context.Context, env service.Env[config.Config]) error {
	cfg, pool, log := env.Config, env.Pool, env.Log
	st := store.New(pool)
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
	srv := service.NewHTTPServer(cfg.ListenAddr, handler, log)
	err := service.ListenAndServe(ctx, srv, log, "mcp-server listening",
		"resource", cfg.ResourceURL, "issuer", cfg.AuthIssuer, "mode", cfg.Mode)
	// The last requests' audit events are written once the drain is over.
	stopAudit()
	<-auditDone
	return err
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

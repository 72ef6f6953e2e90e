// Command mcp-server is the OAuth-protected MCP resource server.
//
//	mcp-server [serve]   serve MCP, metadata and /healthz (default)
//	mcp-server migrate   apply the database migrations and exit
//	mcp-server seed-demo add the demo invoices and exit (idempotent)
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
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mcp-oauth/mcp-server/internal/config"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/mcp-server/internal/server"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/tools"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(log, os.Args[1:]); err != nil {
		log.Error("mcp-server failed", "error", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, args []string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	if len(args) > 1 {
		return fmt.Errorf("unexpected arguments after %q: %q", cmd, args[1:])
	}
	if cmd != "serve" && cmd != "migrate" && cmd != "seed-demo" {
		return fmt.Errorf("unknown command %q; use serve (default), migrate or seed-demo", cmd)
	}

	cfg := config.FromEnv(os.Getenv)
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
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
	return serve(ctx, log, cfg, store.New(pool))
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

func serve(ctx context.Context, log *slog.Logger, cfg config.Config, st *store.Store) error {
	hydra := introspect.New(cfg.IntrospectionURL(), &http.Client{Timeout: cfg.VerifyTimeout})
	handler := server.Handler(server.Options{
		Resource: cfg.ResourceURL,
		Issuer:   cfg.AuthIssuer,
		Gate: gate.New(gate.Options{
			Resource: cfg.ResourceURL,
			Introspector: introspect.NewCache(hydra, introspect.CacheOptions{
				MaxTTL:      cfg.IntrospectionCacheTTL,
				CallTimeout: cfg.VerifyTimeout,
			}),
			Connections: st,
			Timeout:     cfg.VerifyTimeout,
			Logger:      log,
		}),
		MCP:    tools.NewServer(tools.Options{Store: st, Logger: log, Version: version()}),
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
	log.Info("mcp-server listening", "addr", ln.Addr().String(), "resource", cfg.ResourceURL, "issuer", cfg.AuthIssuer)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// version is the module version stamped by the Go toolchain, for the MCP
// server's implementation info.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

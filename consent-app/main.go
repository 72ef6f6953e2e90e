// Command consent-app is the public auth origin of the MCP OAuth stack: it
// fronts Ory Hydra, signs people in, asks them which team an app may use and
// what it may do there, and records each approval as a connection.
//
// Usage: consent-app [serve|migrate|seed-demo]. Configuration comes from the
// environment; see internal/config.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/consent-app/internal/config"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/password"
	"github.com/mcp-oauth/consent-app/internal/server"
	"github.com/mcp-oauth/consent-app/internal/store"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(log)
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cmd, log); err != nil {
		fmt.Fprintf(os.Stderr, "consent-app %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, log *slog.Logger) error {
	cfg := config.FromEnv()
	switch cmd {
	case "serve", "migrate", "seed-demo":
	default:
		return fmt.Errorf("unknown command %q; use serve, migrate or seed-demo", cmd)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()
	st := store.New(pool)
	switch cmd {
	case "migrate":
		return store.Migrate(ctx, pool)
	case "seed-demo":
		return st.SeedDemo(ctx, password.Hash)
	}
	return serve(ctx, cfg, st, log)
}

func serve(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) error {
	srv := &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           server.New(server.Deps{Config: cfg, Hydra: hydraadmin.New(cfg.HydraAdminURL), Store: st, Log: log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("consent app listening", "addr", cfg.ListenAddr, "issuer", cfg.PublicURL, "resource", cfg.MCPResourceURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("consent app stopped")
	return nil
}

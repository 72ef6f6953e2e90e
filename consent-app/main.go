// Command consent-app is the public auth origin of the MCP OAuth stack: it
// fronts Ory Hydra, signs people in, asks them which team an app may use and
// what it may do there, and records each approval as a connection.
//
// Usage: consent-app [serve|migrate|seed-demo|hygiene|healthcheck|config-vars].
// hygiene runs one pass of the periodic housekeeping (package hygiene) and
// exits, for operators who turn the in-process job off.
// Configuration comes from the environment; see internal/config.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/consent-app/internal/config"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/hygiene"
	"github.com/mcp-oauth/consent-app/internal/password"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/server"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/telemetry"
	"github.com/mcp-oauth/ops/envconfig"
	"github.com/mcp-oauth/ops/health"
	"github.com/mcp-oauth/ops/metrics"
	"github.com/mcp-oauth/ops/requestid"
)

func main() {
	// Info until the configuration names a level (LOG_LEVEL).
	level := new(slog.LevelVar)
	log := slog.New(requestid.NewLogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	slog.SetDefault(log)
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cmd, log, level); err != nil {
		fmt.Fprintf(os.Stderr, "consent-app %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cmd string, log *slog.Logger, level *slog.LevelVar) error {
	switch cmd {
	case "serve", "migrate", "seed-demo", "hygiene":
	case "config-vars":
		// The README's table of variables, one row each.
		fmt.Print(envconfig.Markdown("consent-app", config.Vars))
		return nil
	case "healthcheck":
		// A container health check on an image without a shell.
		return health.SelfCheck(ctx, config.FromEnv().ListenAddr)
	default:
		return fmt.Errorf("unknown command %q; use serve, migrate, seed-demo, hygiene, healthcheck or config-vars", cmd)
	}
	cfg := config.FromEnv()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	level.Set(cfg.LogLevel)
	if cmd == "seed-demo" && cfg.Mode == envconfig.Production {
		return errors.New("seed-demo creates accounts with published passwords; it runs only with MODE=development")
	}
	pool, err := openPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	switch cmd {
	case "migrate":
		return store.Migrate(ctx, pool)
	case "seed-demo":
		return st.SeedDemo(ctx, password.Hash)
	case "hygiene":
		rep, err := hygieneJob(cfg, st, hydraadmin.New(cfg.HydraAdminURL), nil, log).Run(ctx)
		if err == nil {
			log.Info("hygiene pass", "skipped_for_another_replica", rep.Skipped, "clients_deleted", len(rep.Deleted), "consents_revoked", rep.ConsentsRevoked)
		}
		return err
	}
	return serve(ctx, cfg, pool, st, log)
}

// openPool configures the database pool. Every connection is pinged as it
// is acquired, not only after a second idle (pgx's default): after a
// PostgreSQL restart a connection the restart cut would otherwise fail one
// sign-in or consent with a 503. A round trip is little next to argon2id.
func openPool(ctx context.Context, databaseURL string) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parser's message may quote the URL, password included.
		return nil, errors.New("DATABASE_URL: not a PostgreSQL connection URL")
	}
	pc.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	return pgxpool.NewWithConfig(ctx, pc)
}

func hygieneJob(cfg config.Config, st *store.Store, h *hydraadmin.Client, m *telemetry.Metrics, log *slog.Logger) *hygiene.Job {
	return &hygiene.Job{
		Hydra: h, Store: st, Log: log,
		Revoker: &revocation.Revoker{Store: st, Hydra: h, Log: log, Metrics: m},
		Options: hygiene.Options{UnauthorizedTTL: cfg.ClientUnauthorizedTTL, IdleTTL: cfg.ClientIdleTTL},
	}
}

func serve(ctx context.Context, cfg config.Config, pool *pgxpool.Pool, st *store.Store, log *slog.Logger) error {
	reg := metrics.NewRegistry()
	if err := metrics.Serve(ctx, cfg.MetricsAddr, reg, log); err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	hydra := hydraadmin.New(cfg.HydraAdminURL)
	m := telemetry.New(reg)
	// The settings pages sign in with the first-party client: the app is
	// ready once Hydra has it.
	var registered atomic.Bool
	go func() {
		firstparty.Register(ctx, hydra, firstparty.Client(cfg.PublicURL, firstparty.Secret(cfg.CookieSecret)), log)
		registered.Store(ctx.Err() == nil)
	}()
	ready := health.Ready(map[string]health.Check{
		"postgres":    pool.Ping,
		"hydra_admin": health.HTTPCheck(&http.Client{Timeout: health.CheckTimeout}, cfg.HydraAdminURL+"/health/ready"),
		"first_party_client": func(context.Context) error {
			if !registered.Load() {
				return errors.New("the settings pages' client is not registered in Hydra yet")
			}
			return nil
		},
	})
	if cfg.HygieneInterval > 0 {
		go hygieneJob(cfg, st, hydra, m, log).Loop(ctx, cfg.HygieneInterval)
	}
	srv := &http.Server{
		Addr: cfg.ListenAddr,
		Handler: server.New(server.Deps{Config: cfg, Hydra: hydra, Store: st, Log: log,
			Metrics: m, Ready: ready}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("consent app listening", "addr", cfg.ListenAddr, "issuer", cfg.PublicURL, "resource", cfg.MCPResourceURL, "mode", cfg.Mode)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain: stop accepting, let in-flight requests finish.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("consent app stopped")
	return nil
}

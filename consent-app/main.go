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
	"sync/atomic"
	"time"

	"github.com/mcp-oauth/consent-app/internal/config"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/hygiene"
	"github.com/mcp-oauth/consent-app/internal/loopback"
	"github.com/mcp-oauth/consent-app/internal/password"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/server"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/telemetry"
	"github.com/mcp-oauth/ops/health"
	"github.com/mcp-oauth/ops/metrics"
	"github.com/mcp-oauth/ops/service"
)

func main() { consentApp.Main() }

// consentApp is the binary: its commands on the shared skeleton.
var consentApp = service.Service[config.Config]{
	Name: "consent-app",
	Load: config.FromEnv,
	// Every connection is pinged as it is acquired, not only after a
	// second idle (pgx's default): after a PostgreSQL restart a
	// connection the restart cut would otherwise fail one sign-in or
	// consent with a 503. A round trip is little next to argon2id.
	Pool: service.PoolOptions{PingOnAcquire: true},
	Commands: []service.Command[config.Config]{
		{Name: "serve", Needs: service.NeedsDatabase, Run: serve},
		{Name: "migrate", Needs: service.NeedsDatabase, Run: func(ctx context.Context, env service.Env[config.Config]) error {
			return service.Migrate(ctx, env.Pool, func(ctx context.Context) error { return store.Migrate(ctx, env.Pool) })
		}},
		{Name: "seed-demo", Needs: service.NeedsDatabase,
			DevelopmentOnly: "seed-demo creates accounts with published passwords; it runs only with MODE=development",
			Run: func(ctx context.Context, env service.Env[config.Config]) error {
				return store.New(env.Pool).SeedDemo(ctx, password.Hash)
			}},
		{Name: "hygiene", Needs: service.NeedsDatabase, Run: func(ctx context.Context, env service.Env[config.Config]) error {
			rep, err := hygieneJob(env.Config, store.New(env.Pool), hydraadmin.New(env.Config.HydraAdminURL), nil, env.Log).Run(ctx)
			if err == nil {
				env.Log.Info("hygiene pass", "skipped_for_another_replica", rep.Skipped, "clients_deleted", len(rep.Deleted), "consents_revoked", rep.ConsentsRevoked)
			}
			return err
		}},
		service.Healthcheck[config.Config](),
		service.ConfigVars[config.Config]("consent-app", config.Vars),
	},
}

func hygieneJob(cfg config.Config, st *store.Store, h *hydraadmin.Client, m *telemetry.Metrics, log *slog.Logger) *hygiene.Job {
	return &hygiene.Job{
		Hydra: h, Store: st, Log: log,
		Revoker: &revocation.Revoker{Store: st, Hydra: h, Log: log, Metrics: m},
		Options: hygiene.Options{UnauthorizedTTL: cfg.ClientUnauthorizedTTL, IdleTTL: cfg.ClientIdleTTL},
	}
}

func serve(ctx context.Context, env service.Env[config.Config]) error {
	cfg, pool, log := env.Config, env.Pool, env.Log
	st := store.New(pool)
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
		// Clients registered before the edge translated localhost redirect
		// URIs (package loopback) get their Hydra form before we are ready.
		if _, err := loopback.Upgrade(ctx, hydra, log); err != nil {
			log.ErrorContext(ctx, "give localhost redirect URIs their Hydra form; clients registered by an earlier version may be refused", "err", err)
		}
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
	srv := service.NewHTTPServer(cfg.ListenAddr, server.New(server.Deps{Config: cfg, Hydra: hydra, Store: st, Log: log,
		Metrics: m, Ready: ready}), log)
	// Pages and the Hydra proxy answer small bodies quickly; a client that
	// trickles its request or never reads the answer is cut off.
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	return service.ListenAndServe(ctx, srv, log, "consent app listening",
		"issuer", cfg.PublicURL, "resource", cfg.MCPResourceURL, "mode", cfg.Mode)
}

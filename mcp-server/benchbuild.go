//go:build bench

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/mcp-server/internal/config"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/ops/envconfig"
)

// This file is compiled only into the benchmark build (go build -tags
// bench), which scripts/bench runs beside the release build
// (docs/benchmarks.md). It refuses MODE=production, and the release build
// does not contain it at all. Two switches, both off unless set:
//
//   - BENCH_AUTH=off lets every request through as one fixed connection,
//     BENCH_UNGATED_USER_ID, _TEAM_ID and _CONNECTION_ID, with every catalog
//     scope: the server with authorization switched off (P1).
//   - BENCH_PPROF_ADDR serves net/http/pprof there (scripts/bench -profile).
func init() {
	benchBuild = benchSwitches
}

func benchSwitches(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger,
	protect func(http.Handler) http.Handler) (func(http.Handler) http.Handler, error) {
	if cfg.Mode == envconfig.Production {
		return nil, errors.New("this is the benchmark build, which can switch authorization off; it never runs with MODE=production")
	}
	if addr := getenv("BENCH_PPROF_ADDR"); addr != "" {
		if err := servePprof(ctx, addr, log); err != nil {
			return nil, err
		}
	}
	switch getenv("BENCH_AUTH") {
	case "", "on":
		return protect, nil
	case "off":
	default:
		return nil, fmt.Errorf("BENCH_AUTH %q: want on or off", getenv("BENCH_AUTH"))
	}
	id := &gate.Identity{
		UserID:       getenv("BENCH_UNGATED_USER_ID"),
		TeamID:       getenv("BENCH_UNGATED_TEAM_ID"),
		ConnectionID: getenv("BENCH_UNGATED_CONNECTION_ID"),
		ClientID:     "benchmark",
		Scopes:       catalog.Names(),
	}
	for name, v := range map[string]string{
		"BENCH_UNGATED_USER_ID": id.UserID, "BENCH_UNGATED_TEAM_ID": id.TeamID, "BENCH_UNGATED_CONNECTION_ID": id.ConnectionID,
	} {
		var u pgtype.UUID
		if err := u.Scan(v); err != nil {
			return nil, fmt.Errorf("BENCH_AUTH=off: %s %q: want the UUID of an existing row", name, v)
		}
	}
	log.Warn("AUTHORIZATION IS OFF: benchmark build; every request acts as one fixed connection",
		"team_id", id.TeamID, "connection_id", id.ConnectionID)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(gate.WithIdentity(r.Context(), id)))
		})
	}, nil
}

// servePprof serves the runtime profiles on addr until ctx ends.
func servePprof(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("BENCH_PPROF_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	log.Info("benchmark build: profiles on " + ln.Addr().String() + "/debug/pprof/")
	return nil
}

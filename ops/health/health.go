// Package health answers liveness (/healthz: the process serves HTTP) and
// readiness (/readyz: every dependency answers) probes, and runs the
// self-check that container health checks call on images without a shell.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Check reports whether one dependency is usable.
type Check func(ctx context.Context) error

// CheckTimeout bounds each check, so a hung dependency makes the service
// unready instead of hanging the probe.
const CheckTimeout = 2 * time.Second

// Live answers /healthz: the process is up and serving.
func Live(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok"))
}

// Ready returns the /readyz handler: 200 when every check passes, 503 with
// the failing checks named otherwise. Check errors are summarised, never
// passed on verbatim: they may name internal addresses.
func Ready(checks map[string]Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		results := make(map[string]string, len(checks))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, check := range checks {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(r.Context(), CheckTimeout)
				defer cancel()
				status := "ok"
				if err := check(ctx); err != nil {
					status = "unavailable"
				}
				mu.Lock()
				results[name] = status
				mu.Unlock()
			})
		}
		wg.Wait()
		code, status := http.StatusOK, "ok"
		for _, s := range results {
			if s != "ok" {
				code, status = http.StatusServiceUnavailable, "unavailable"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "checks": results})
	})
}

// HTTPCheck checks that GET url answers 200, as Hydra's /health/ready does.
func HTTPCheck(client *http.Client, url string) Check {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		return nil
	}
}

// SelfCheck asks the service listening on listenAddr whether it is ready;
// it is what `<service> healthcheck` runs inside a distroless container.
func SelfCheck(ctx context.Context, listenAddr string) error {
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR %q: %w", listenAddr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*CheckTimeout)
	defer cancel()
	return HTTPCheck(http.DefaultClient, "http://"+net.JoinHostPort(host, port)+"/readyz")(ctx)
}

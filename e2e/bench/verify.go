package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcp-oauth/e2e/internal/load"
)

// verification is P2's Hydra side: Hydra's own introspection endpoint,
// called directly with a live access token, as the MCP server does on a
// cache miss. The cache side is a Go benchmark (goBenchmarks), which puts
// the two side by side.
func (r *run) verification(ctx context.Context) error {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: r.p.P2Workers}}
	defer hc.CloseIdleConnections()
	endpoint := r.st.HydraAdminURL + "/admin/oauth2/introspect"
	form := url.Values{"token": {r.grants[0].token}}.Encode()
	res := load.Run(ctx, load.Options{Workers: r.p.P2Workers, Warmup: time.Second, Duration: r.p.P2Duration},
		func(ctx context.Context, _ int) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			var in introspection
			if err := decodeJSON(resp, &in); err != nil {
				return err
			}
			if !in.Active {
				return errors.New("token reported inactive")
			}
			return nil
		})
	if res.Calls == 0 {
		return fmt.Errorf("no introspection succeeded: %q", res.FirstErrors)
	}
	r.hydraRate = res.Throughput()
	r.report.add(Row{ID: "P2", Figure: "Hydra introspection, called directly (HTTP, admin API)", Lat: res.Latency,
		Rate: res.Throughput(), Errors: count(res.Errors), Note: fmt.Sprintf("%d workers", r.p.P2Workers)})
	return nil
}

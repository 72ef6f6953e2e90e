package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/e2e/internal/load"
)

// Revoker revokes one connection the way the product does. P3 times from
// the start of the call to refusal on every replica.
type Revoker func(ctx context.Context, connectionID string) error

// revokeInDatabase revokes as the consent app's store does today
// (consent-app/internal/store RevokeConnection): it marks the row; each MCP
// server checks the row on every request. When the settings page's revoke
// (issue 5) lands, P3 should call that instead, so that whatever it adds
// (notifications to the replicas, Hydra's consent) is timed too.
func revokeInDatabase(db *pgxpool.Pool) Revoker {
	return func(ctx context.Context, connectionID string) error {
		tag, err := db.Exec(ctx, `UPDATE connections SET revoked_at = coalesce(revoked_at, now()) WHERE id::text = $1`, connectionID)
		if err == nil && tag.RowsAffected() != 1 {
			err = fmt.Errorf("no connection %s", connectionID)
		}
		return err
	}
}

// refusalTimeout bounds the wait for one refusal: far beyond the goal, so a
// revocation that never bites fails the run instead of hanging it.
const refusalTimeout = 10 * time.Second

// revocation is P3: for each of the last Revokes grants, both replicas
// (the stack's MCP server and a second one) first accept the token, so
// that its verification is cached on both; then the connection is revoked
// and both are asked, back to back, until each refuses.
func (r *run) revocation(ctx context.Context) error {
	revoke := revokeInDatabase(r.db)
	replicas := []string{r.st.MCPServerAddr(), r.replica.Addr}
	var both []time.Duration
	for _, g := range r.grants[len(r.grants)-r.p.Revokes:] {
		cs := make([]*mcpClient, len(replicas))
		for i, addr := range replicas {
			cs[i] = newClient(addr, g.token)
			if err := cs[i].call(ctx, loadCall); err != nil {
				closeAll(cs[:i+1])
				return fmt.Errorf("replica %s before the revoke: %w", addr, err)
			}
		}
		d, err := timeRevocation(ctx, revoke, g.connectionID, cs)
		closeAll(cs)
		if err != nil {
			return err
		}
		both = append(both, d)
	}
	lat := load.Sorted(both)
	r.report.add(Row{ID: "P3", Figure: "revoke → refused on both replicas", Lat: lat,
		Note: fmt.Sprintf("n=%d", len(lat)), Goal: "p99 ≤ 1 s", Met: verdict(lat.Percentile(99) <= time.Second)})
	return nil
}

// timeRevocation revokes connectionID and returns the time until every
// client's server refused it.
func timeRevocation(ctx context.Context, revoke Revoker, connectionID string, cs []*mcpClient) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, refusalTimeout)
	defer cancel()
	began := time.Now()
	if err := revoke(ctx, connectionID); err != nil {
		return 0, fmt.Errorf("revoke: %w", err)
	}
	var mu sync.Mutex
	var last time.Duration
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			for {
				err := c.call(ctx, loadCall)
				if errors.Is(err, errRefused) {
					mu.Lock()
					last = max(last, time.Since(began))
					mu.Unlock()
					return
				}
				if ctx.Err() != nil {
					errs[i] = fmt.Errorf("%s still accepts a revoked connection after %s", c.url, refusalTimeout)
					return
				}
				if err != nil {
					errs[i] = fmt.Errorf("%s after the revoke: %w", c.url, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return last, errors.Join(errs...)
}

package audit

import (
	"context"
	"log/slog"
	"time"
)

// DefaultRetention is how long events are kept unless configured.
const DefaultRetention = 90 * 24 * time.Hour

// Pruner deletes old events; *store.Store is one.
type Pruner interface {
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// Prune deletes the events older than retention now, then every interval
// until ctx ends.
func Prune(ctx context.Context, p Pruner, retention, interval time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		n, err := p.PruneAudit(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.ErrorContext(ctx, "prune audit events; next pass retries", "err", err)
		case n > 0:
			log.InfoContext(ctx, "audit events pruned", "deleted", n, "retention", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

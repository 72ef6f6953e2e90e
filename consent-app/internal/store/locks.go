package store

import (
	"context"
	"fmt"
)

// ExclusiveJob runs fn unless another process runs the job called name
// right now, in which case it returns ran = false at once. Replicas of the
// app run their periodic jobs this way, so that one does the work. The lock
// is a PostgreSQL session advisory lock held on one pooled connection while
// fn runs.
func (s *Store) ExclusiveJob(ctx context.Context, name string, fn func(context.Context) error) (ran bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("job %s: %w", name, err)
	}
	defer conn.Release()
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('consent-app:' || $1))`, name).Scan(&ran); err != nil {
		return false, fmt.Errorf("job %s: lock: %w", name, err)
	}
	if !ran {
		return false, nil
	}
	defer func() {
		if _, uerr := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('consent-app:' || $1))`, name); uerr != nil {
			// A connection that cannot unlock must not go back to the pool
			// holding the lock.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return true, fn(ctx)
}

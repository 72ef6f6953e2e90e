package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog/contract"
)

// AuditEvent is one MCP tool call, as the audit log records it.
type AuditEvent struct {
	At           time.Time
	UserID       string
	TeamID       string
	ClientID     string
	ConnectionID string
	Tool         string
	// Outcome is one of contract.Outcomes.
	Outcome  contract.Outcome
	Duration time.Duration
}

// WriteAudit stores a batch of events and moves each connection's
// last_used_at forward to its latest call, in one transaction.
// last_used_at is the one column of the consent app's tables this server
// writes: the settings pages and client hygiene read it.
func (s *Store) WriteAudit(ctx context.Context, events []AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	last := make(map[string]time.Time)
	rows := make([][]any, 0, len(events))
	for _, e := range events {
		uid, err := parseUUID(e.UserID)
		if err != nil {
			return err
		}
		tid, err := parseUUID(e.TeamID)
		if err != nil {
			return err
		}
		cid, err := parseUUID(e.ConnectionID)
		if err != nil {
			return err
		}
		rows = append(rows, []any{e.At, uid, tid, e.ClientID, cid, e.Tool, string(e.Outcome), e.Duration.Microseconds()})
		if e.At.After(last[e.ConnectionID]) {
			last[e.ConnectionID] = e.At
		}
	}
	ids, ats := make([]string, 0, len(last)), make([]time.Time, 0, len(last))
	for id, at := range last {
		ids, ats = append(ids, id), append(ats, at)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_events"},
			[]string{"at", "user_id", "team_id", "client_id", "connection_id", "tool", "outcome", "duration_us"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("write audit events: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE connections c SET last_used_at = u.at
			FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at)
			WHERE c.id = u.id AND (c.last_used_at IS NULL OR c.last_used_at < u.at)`, ids, ats); err != nil {
			return fmt.Errorf("update last used: %w", err)
		}
		return nil
	})
}

// pruneBatch bounds one delete, so that pruning a large backlog never holds
// long locks.
const pruneBatch = 10_000

// PruneAudit deletes the audit events older than before and returns how
// many. Replicas may call it at once: a batch another replica is deleting
// is skipped.
func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `DELETE FROM audit_events WHERE id IN (
			SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune audit events: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			return total, nil
		}
	}
}

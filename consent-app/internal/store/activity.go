package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog/contract"
)

// ActivityEvent is one tool call of a connection, from the MCP server's
// audit log.
type ActivityEvent struct {
	At       time.Time
	Tool     string
	Outcome  contract.Outcome
	Duration time.Duration
}

// Activity returns the connection's latest tool calls, newest first, at
// most limit. The audit_events table is the MCP server's (its migration
// 00003 creates it, it writes the rows); the consent app only reads it.
func (s *Store) Activity(ctx context.Context, connID string, limit int) ([]ActivityEvent, error) {
	cid, err := parseID(connID)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT at, tool, outcome, duration_us FROM audit_events
		WHERE connection_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, cid, limit)
	if err != nil {
		return nil, fmt.Errorf("read activity: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ActivityEvent, error) {
		var e ActivityEvent
		var us int64
		var outcome string
		err := r.Scan(&e.At, &e.Tool, &outcome, &us)
		e.Outcome, e.Duration = contract.Outcome(outcome), time.Duration(us)*time.Microsecond
		return e, err
	})
}

// ClientUse is what the consent app knows of a client's use.
type ClientUse struct {
	// Authorized reports whether anyone ever approved the client.
	Authorized bool
	// LastActive is the latest approval or tool call; zero if none.
	LastActive time.Time
}

// ClientUses returns the use of each client that has connections; clients
// missing from the map never had one.
func (s *Store) ClientUses(ctx context.Context, clientIDs []string) (map[string]ClientUse, error) {
	rows, err := s.pool.Query(ctx, `SELECT client_id, max(greatest(created_at, last_used_at))
		FROM connections WHERE client_id = ANY($1) GROUP BY client_id`, clientIDs)
	if err != nil {
		return nil, fmt.Errorf("client use: %w", err)
	}
	uses := make(map[string]ClientUse)
	var id string
	var last time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &last}, func() error {
		uses[id] = ClientUse{Authorized: true, LastActive: last}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("client use: %w", err)
	}
	return uses, nil
}

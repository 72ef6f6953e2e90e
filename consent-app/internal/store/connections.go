package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// ConnectionView is a connection as the settings pages show it: with its
// user and team by name.
type ConnectionView struct {
	ID         string
	UserID     string
	UserEmail  string
	UserName   string
	TeamID     string
	TeamName   string
	ClientID   string
	ClientName string
	Scopes     []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Revoked is a connection that a call has just revoked.
type Revoked struct {
	ConnectionID string
	UserID       string
	ClientID     string
}

// visibleTo is the one rule for who may see and revoke a connection: its own
// user, and the owners and admins of its team. $1 is the viewer's id.
const visibleTo = `(c.user_id = $1 OR EXISTS (
	SELECT 1 FROM memberships v
	WHERE v.team_id = c.team_id AND v.user_id = $1 AND v.role IN ('owner', 'admin')))`

const connectionViewColumns = `c.id::text, c.user_id::text, u.email, u.display_name, c.team_id::text, t.name,
	c.client_id, c.client_name, c.scopes, c.created_at, c.last_used_at, c.revoked_at`

const connectionViewFrom = `connections c JOIN users u ON u.id = c.user_id JOIN teams t ON t.id = c.team_id`

func scanConnectionView(r pgx.CollectableRow) (ConnectionView, error) {
	var v ConnectionView
	err := r.Scan(&v.ID, &v.UserID, &v.UserEmail, &v.UserName, &v.TeamID, &v.TeamName,
		&v.ClientID, &v.ClientName, &v.Scopes, &v.CreatedAt, &v.LastUsedAt, &v.RevokedAt)
	return v, err
}

// UserConnections lists the user's own live connections, newest first.
func (s *Store) UserConnections(ctx context.Context, userID string) ([]ConnectionView, error) {
	uid, err := parseID(userID)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+connectionViewColumns+` FROM `+connectionViewFrom+`
		WHERE c.user_id = $1 AND c.revoked_at IS NULL
		ORDER BY c.created_at DESC, c.id`, uid)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return pgx.CollectRows(rows, scanConnectionView)
}

// TeamConnections lists every live connection into the team, newest first,
// for one of its owners or admins; for anyone else it returns ErrNotFound.
func (s *Store) TeamConnections(ctx context.Context, viewerID, teamID string) ([]ConnectionView, error) {
	vid, err := parseID(viewerID)
	if err != nil {
		return nil, err
	}
	tid, err := parseID(teamID)
	if err != nil {
		return nil, err
	}
	if _, err := s.TeamAdministeredBy(ctx, viewerID, teamID); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+connectionViewColumns+` FROM `+connectionViewFrom+`
		WHERE c.team_id = $2 AND c.revoked_at IS NULL AND `+visibleTo+`
		ORDER BY c.created_at DESC, c.id`, vid, tid)
	if err != nil {
		return nil, fmt.Errorf("list team connections: %w", err)
	}
	return pgx.CollectRows(rows, scanConnectionView)
}

// VisibleConnection returns the connection if the viewer may see it (see
// visibleTo), revoked or not; ErrNotFound otherwise, exactly as for an id
// that does not exist.
func (s *Store) VisibleConnection(ctx context.Context, viewerID, connID string) (ConnectionView, error) {
	vid, err := parseID(viewerID)
	if err != nil {
		return ConnectionView{}, err
	}
	cid, err := parseID(connID)
	if err != nil {
		return ConnectionView{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+connectionViewColumns+` FROM `+connectionViewFrom+`
		WHERE c.id = $2 AND `+visibleTo, vid, cid)
	if err != nil {
		return ConnectionView{}, fmt.Errorf("read connection: %w", err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, scanConnectionView)
	if errors.Is(err, pgx.ErrNoRows) {
		return ConnectionView{}, ErrNotFound
	}
	return v, err
}

// RevokeVisibleConnection revokes the connection if the viewer may see it.
// It returns what it revoked: nothing when the connection was revoked
// already, ErrNotFound when the viewer may not see it or it does not exist.
func (s *Store) RevokeVisibleConnection(ctx context.Context, viewerID, connID string) ([]Revoked, error) {
	vid, err := parseID(viewerID)
	if err != nil {
		return nil, err
	}
	cid, err := parseID(connID)
	if err != nil {
		return nil, err
	}
	// One statement: the rule is checked on the row it revokes.
	rows, err := s.pool.Query(ctx, `
		WITH target AS (SELECT c.id, c.revoked_at FROM connections c WHERE c.id = $2 AND `+visibleTo+`),
		revoked AS (
			UPDATE connections c SET revoked_at = now()
			FROM target WHERE c.id = target.id AND c.revoked_at IS NULL
			RETURNING c.id::text, c.user_id::text, c.client_id)
		SELECT id, user_id, client_id, true FROM revoked
		UNION ALL SELECT id::text, '', '', false FROM target`, vid, cid)
	if err != nil {
		return nil, fmt.Errorf("revoke connection: %w", err)
	}
	var out []Revoked
	found := false
	for rows.Next() {
		var r Revoked
		var fresh bool
		if err := rows.Scan(&r.ConnectionID, &r.UserID, &r.ClientID, &fresh); err != nil {
			return nil, err
		}
		found = true
		if fresh {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revoke connection: %w", err)
	}
	if !found {
		return nil, ErrNotFound
	}
	return out, nil
}

// RevokeUserConnections revokes every live connection of the user.
func (s *Store) RevokeUserConnections(ctx context.Context, userID string) ([]Revoked, error) {
	uid, err := parseID(userID)
	if err != nil {
		return nil, err
	}
	return s.revoke(ctx, s.pool, `user_id = $1`, uid)
}

// RevokeClientConnections revokes every live connection of a client.
func (s *Store) RevokeClientConnections(ctx context.Context, clientID string) ([]Revoked, error) {
	return s.revoke(ctx, s.pool, `client_id = $1`, clientID)
}

// revoke revokes the live connections matching where.
func (s *Store) revoke(ctx context.Context, q querier, where string, args ...any) ([]Revoked, error) {
	rows, err := q.Query(ctx, `UPDATE connections SET revoked_at = now()
		WHERE revoked_at IS NULL AND `+where+`
		RETURNING id::text, user_id::text, client_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("revoke connections: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Revoked, error) {
		var v Revoked
		err := r.Scan(&v.ConnectionID, &v.UserID, &v.ClientID)
		return v, err
	})
}

// HasLiveConnection reports whether the user still has a connection of the
// client that is not revoked.
func (s *Store) HasLiveConnection(ctx context.Context, userID, clientID string) (bool, error) {
	uid, err := parseID(userID)
	if err != nil {
		return false, err
	}
	var live bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM connections
		WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL)`, uid, clientID).Scan(&live)
	return live, err
}

// MarkHydraConsentRevoked records that Hydra's consent for the user and
// client was revoked, on their revoked connections.
func (s *Store) MarkHydraConsentRevoked(ctx context.Context, userID, clientID string) error {
	uid, err := parseID(userID)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `UPDATE connections SET hydra_consent_revoked_at = now()
		WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NOT NULL AND hydra_consent_revoked_at IS NULL`, uid, clientID)
	return err
}

// Grant is a user and a client: the unit of Hydra's consent.
type Grant struct{ UserID, ClientID string }

// PendingConsentRevocations lists up to limit users and clients whose last
// connection was revoked but whose consent in Hydra is not yet recorded as
// revoked.
func (s *Store) PendingConsentRevocations(ctx context.Context, limit int) ([]Grant, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT c.user_id::text, c.client_id FROM connections c
		WHERE c.revoked_at IS NOT NULL AND c.hydra_consent_revoked_at IS NULL
		  AND NOT EXISTS (SELECT 1 FROM connections l
		                  WHERE l.user_id = c.user_id AND l.client_id = c.client_id AND l.revoked_at IS NULL)
		LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending consent revocations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) {
		var g Grant
		err := r.Scan(&g.UserID, &g.ClientID)
		return g, err
	})
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// parseID turns a malformed id into ErrNotFound before it reaches
// PostgreSQL, where it would fail the query like an outage: an id a person
// made up is simply not found.
func parseID(id string) (pgtype.UUID, error) {
	var u pgtype.UUID
	if err := u.Scan(id); err != nil {
		return u, ErrNotFound
	}
	return u, nil
}

// GrantScopes adds scopes (catalog scopes; the caller checks) to the user's
// own live connection, after those it has, each once. It returns the
// connection's scopes afterwards; ErrNotFound when the connection is not the
// user's, is revoked or does not exist. A change notifies
// connection_changed in the same transaction (migration 00004), so every MCP
// server replica sees the scopes at commit.
func (s *Store) GrantScopes(ctx context.Context, userID, connID string, scopes []string) ([]string, error) {
	uid, err := parseID(userID)
	if err != nil {
		return nil, err
	}
	cid, err := parseID(connID)
	if err != nil {
		return nil, err
	}
	var granted []string
	err = s.pool.QueryRow(ctx, `UPDATE connections SET scopes = scopes || ARRAY(
			SELECT s FROM unnest($3::text[]) WITH ORDINALITY AS a(s, i)
			WHERE s <> ALL (scopes) GROUP BY s ORDER BY min(i))
		WHERE id = $2 AND user_id = $1 AND revoked_at IS NULL
		RETURNING scopes`, uid, cid, scopes).Scan(&granted)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("grant scopes: %w", err)
	}
	return granted, nil
}

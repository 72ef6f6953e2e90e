// Package store keeps the consent app's data in PostgreSQL: users, teams,
// memberships and connections.
package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/catalog/contract"
)

// ErrNotFound is returned when a row does not exist.
var ErrNotFound = errors.New("not found")

// User is a person who signs in.
type User struct {
	ID           string
	Email        string
	DisplayName  string
	PasswordHash string
}

// Team is a tenant. Every connection is scoped to exactly one.
type Team struct {
	ID   string
	Slug string
	Name string
	Role contract.Role // the user's role, when listed for a user
}

// Connection is one approved consent.
type Connection struct {
	ID         string
	UserID     string
	TeamID     string
	ClientID   string
	ClientName string
	Scopes     []string
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// Store wraps a connection pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store backed by pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// UserByEmail finds a user by email, ignoring case.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx,
		`SELECT id, email, display_name, password_hash FROM users WHERE lower(email) = lower($1)`,
		strings.TrimSpace(email)).Scan(&u.ID, &u.Email, &u.DisplayName, &u.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	uid, err := parseID(id)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.pool.QueryRow(ctx, userByIDQuery, uid).Scan(&u.ID, &u.Email, &u.DisplayName, &u.PasswordHash)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

const userByIDQuery = `SELECT id, email, display_name, password_hash FROM users WHERE id = $1`

// TeamsOfUser lists the teams the user belongs to, by name.
// A malformed id has no teams.
func (s *Store) TeamsOfUser(ctx context.Context, userID string) ([]Team, error) {
	uid, err := parseID(userID)
	if err != nil {
		return []Team{}, nil
	}
	rows, err := s.pool.Query(ctx, teamsOfUserQuery, uid)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Team, error) {
		var t Team
		err := r.Scan(&t.ID, &t.Slug, &t.Name, &t.Role)
		return t, err
	})
}

const teamsOfUserQuery = `
		SELECT t.id, t.slug, t.name, m.role
		FROM memberships m JOIN teams t ON t.id = m.team_id
		WHERE m.user_id = $1
		ORDER BY t.name`

// NewConnectionID returns a fresh connection id (a random version 4 UUID):
// the consent step chooses it, so that the token can carry it before the
// connection is recorded.
func NewConnectionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails on Linux
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// RecordConnection stores the connection c, whose ID the consent step
// chose, when Hydra issues its first token (the token hook calls it on a
// code exchange). A connection already recorded stays as it is, and none is
// recorded unless its user is a member of its team.
func (s *Store) RecordConnection(ctx context.Context, c Connection) error {
	if c.Scopes == nil {
		c.Scopes = []string{} // a connection with no catalog scope: whoami only
	}
	tid, terr := parseID(c.TeamID)
	uid, uerr := parseID(c.UserID)
	if terr != nil || uerr != nil {
		return nil // no such membership: nothing recorded, as for any other non-member
	}
	_, err := s.pool.Exec(ctx, recordConnectionQuery, c.ID, c.ClientID, c.ClientName, c.Scopes, tid, uid)
	if err != nil {
		return fmt.Errorf("record connection: %w", err)
	}
	return nil
}

const recordConnectionQuery = `
		INSERT INTO connections (id, user_id, team_id, client_id, client_name, scopes)
		SELECT $1, m.user_id, m.team_id, $2, $3, $4 FROM memberships m
		WHERE m.team_id = $5 AND m.user_id = $6
		ON CONFLICT (id) DO NOTHING`

// ConnectionState is what the token hook needs to know about a connection.
type ConnectionState struct {
	Exists   bool
	Revoked  bool
	UserID   string
	TeamID   string
	ClientID string
	// Member reports whether the connection's user still belongs to its team.
	Member bool
}

// ConnectionState looks a connection up together with its user's current
// membership of its team. It runs on every token refresh (the token hook).
// A malformed id is a connection that does not exist.
func (s *Store) ConnectionState(ctx context.Context, id string) (ConnectionState, error) {
	cid, err := parseID(id)
	if err != nil {
		return ConnectionState{}, nil
	}
	var st ConnectionState
	err = s.pool.QueryRow(ctx, connectionStateQuery, cid).
		Scan(&st.UserID, &st.TeamID, &st.ClientID, &st.Revoked, &st.Member)
	if errors.Is(err, pgx.ErrNoRows) {
		return ConnectionState{}, nil
	}
	if err != nil {
		return ConnectionState{}, err
	}
	st.Exists = true
	return st, nil
}

const connectionStateQuery = `
		SELECT c.user_id, c.team_id, c.client_id, c.revoked_at IS NOT NULL,
		       EXISTS (SELECT 1 FROM memberships m WHERE m.team_id = c.team_id AND m.user_id = c.user_id)
		FROM connections c WHERE c.id = $1`

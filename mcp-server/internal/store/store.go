// Package store is the MCP server's PostgreSQL access: it reads the consent
// app's users, teams and connections (and writes only connections'
// last_used_at, see WriteAudit), and owns the team domain — invoices with
// their lines, estimates and transactions — and the audit log.
//
// Team data has two fences. Every domain method takes the team id as a
// required argument and filters by it; and every domain query runs in a
// transaction of the row-level-security role with that team set (inTeam),
// so even a query that forgot the filter sees and writes only that team's
// rows.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotFound is returned when the requested row does not exist.
var ErrNotFound = errors.New("not found")

// IsUnstorableText reports whether PostgreSQL refused an argument's
// characters (a NUL, which no text column can hold): the caller's input is
// wrong, the database is fine.
func IsUnstorableText(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pgErr.Code == "22021" || pgErr.Code == "22P05") // character_not_in_repertoire, untranslatable_character
}

// Store wraps a connection pool.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store using pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Connection is one approved consent (a row of the consent app's
// connections table).
type Connection struct {
	ID       string
	UserID   string
	TeamID   string
	TeamName string
	ClientID string
	// Scopes are the scopes granted to the connection: those approved at
	// consent and any the person added since on the settings pages (step-up
	// by link), which its tokens do not list.
	Scopes    []string
	RevokedAt *time.Time
}

// Connection returns the connection with id.
func (s *Store) Connection(ctx context.Context, id string) (Connection, error) {
	uid, err := parseUUID(id)
	if err != nil {
		return Connection{}, err
	}
	var c Connection
	err = s.pool.QueryRow(ctx, connectionQuery, uid).Scan(&c.ID, &c.UserID, &c.TeamID, &c.TeamName, &c.ClientID, &c.Scopes, &c.RevokedAt)
	if err != nil {
		return Connection{}, notFound("connection", err)
	}
	return c, nil
}

// connectionQuery runs for every request whose connection is not cached
// (internal/connections).
const connectionQuery = `SELECT c.id::text, c.user_id::text, c.team_id::text, t.name, c.client_id, c.scopes, c.revoked_at
		FROM connections c JOIN teams t ON t.id = c.team_id WHERE c.id = $1`

// User is a row of the consent app's users table, without secrets.
type User struct {
	ID          string
	Email       string
	DisplayName string
}

// User returns the user with id.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	uid, err := parseUUID(id)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.pool.QueryRow(ctx,
		`SELECT id::text, email, display_name FROM users WHERE id = $1`, uid,
	).Scan(&u.ID, &u.Email, &u.DisplayName)
	if err != nil {
		return User{}, notFound("user", err)
	}
	return u, nil
}

// Team is a row of the consent app's teams table.
type Team struct {
	ID            string
	Slug          string
	Name          string
	InvoicePrefix string
}

// Team returns the team with id.
func (s *Store) Team(ctx context.Context, id string) (Team, error) {
	uid, err := parseUUID(id)
	if err != nil {
		return Team{}, err
	}
	var t Team
	err = s.pool.QueryRow(ctx,
		`SELECT id::text, slug, name, invoice_prefix FROM teams WHERE id = $1`, uid,
	).Scan(&t.ID, &t.Slug, &t.Name, &t.InvoicePrefix)
	if err != nil {
		return Team{}, notFound("team", err)
	}
	return t, nil
}

// tenantRole is the role domain transactions run as; migration 00002 creates
// it and the tables' row-level-security policies that bind it to
// teamSetting.
const (
	tenantRole  = "mcp_server_tenant"
	teamSetting = "mcp_server.team_id"
)

// inTeam runs fn in a transaction fenced to teamID: as tenantRole, with
// teamSetting set, both for this transaction only (the pooled connection
// gets its own role and no team back afterwards). Read-only callers pass
// pgx.ReadOnly, so a read tool cannot write even by mistake.
func (s *Store) inTeam(ctx context.Context, teamID string, access pgx.TxAccessMode, fn func(pgx.Tx) error) error {
	team, err := parseUUID(teamID)
	if err != nil {
		return err
	}
	// The statement that begins the transaction also sets the fence: one
	// round trip fewer for every tool call (docs/benchmarks.md). A query
	// without parameters goes by the simple protocol, which runs both
	// statements; the only value spliced in is the parsed team id in its
	// canonical form.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{BeginQuery: fmt.Sprintf(
		`BEGIN %s; SELECT set_config('role', '%s', true), set_config('%s', '%s', true)`,
		access, tenantRole, teamSetting, team.String())})
	if err != nil {
		return fmt.Errorf("begin in team: %w", err)
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// parseUUID turns a malformed id into ErrNotFound before it reaches
// PostgreSQL, which would otherwise fail the query (and the caller would
// treat a garbage id as a database outage).
func parseUUID(id string) (pgtype.UUID, error) {
	var u pgtype.UUID
	if err := u.Scan(id); err != nil {
		return u, fmt.Errorf("id %q: %w", id, ErrNotFound)
	}
	return u, nil
}

func notFound(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

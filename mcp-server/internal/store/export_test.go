package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// InTeam exposes the fence to the external tests, which query the tables
// directly to show that it holds without the application's own filter.
func (s *Store) InTeam(ctx context.Context, teamID string, fn func(pgx.Tx) error) error {
	return s.inTeam(ctx, teamID, pgx.ReadWrite, fn)
}

const TenantRole = tenantRole

// InTeamReadOnly is InTeam as the read tools use it.
func (s *Store) InTeamReadOnly(ctx context.Context, teamID string, fn func(pgx.Tx) error) error {
	return s.inTeam(ctx, teamID, pgx.ReadOnly, fn)
}

const TeamSetting = teamSetting

// ConnectionQuery is the lookup behind every request whose connection is not
// cached, for its plan's test.
const ConnectionQuery = connectionQuery

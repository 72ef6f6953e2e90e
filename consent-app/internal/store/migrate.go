package store

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mcp-oauth/consent-app/migrations"
)

// Migrate applies every pending migration of package migrations (the
// schema's one home, which the MCP server's tests apply too). The migrate
// command holds the migration lock both services take (ops/service.Migrate),
// which keeps two replicas starting at once from racing.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return migrations.Up(ctx, pool)
}

// Package migrations is the consent app's schema: the users, teams,
// memberships and connections tables (and the rest) that the consent app
// owns and the MCP server reads. The consent app's migrate command applies
// it; the MCP server's store tests apply it too, so they test against the
// real schema rather than a copy (docs/design.md, "Contracts between the
// services"). Package schematest is the storage contract both services test.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// FS holds the migration files, numbered as goose numbers versions.
//
//go:embed *.sql
var FS embed.FS

// VersionTable is goose's bookkeeping table for the consent app's history,
// apart from the MCP server's, which migrates the same database.
const VersionTable = "goose_consent_app"

// Up applies every pending migration. The consent app's migrate command
// holds the migration lock both services take (ops/service.Migrate), which
// keeps two replicas starting at once from racing.
func Up(ctx context.Context, pool *pgxpool.Pool) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS,
		goose.WithTableName(VersionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

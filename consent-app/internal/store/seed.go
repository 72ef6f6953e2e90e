package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog/demo"
)

// SeedDemo inserts the demo teams, users and memberships (the catalog
// module's package demo owns them). Rows that exist are left alone, so it
// can run on every start. hash turns a password into its stored form.
func (s *Store) SeedDemo(ctx context.Context, hash func(string) (string, error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, t := range demo.Teams() {
			if _, err := tx.Exec(ctx, `INSERT INTO teams (slug, name, invoice_prefix) VALUES ($1, $2, $3)
				ON CONFLICT (slug) DO NOTHING`, t.Slug, t.Name, t.InvoicePrefix); err != nil {
				return fmt.Errorf("seed team %s: %w", t.Slug, err)
			}
		}
		for _, u := range demo.Users() {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))`, u.Email).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				h, err := hash(u.Password)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `INSERT INTO users (email, password_hash, display_name) VALUES ($1, $2, $3)`,
					u.Email, h, u.Name); err != nil {
					return fmt.Errorf("seed user %s: %w", u.Email, err)
				}
			}
			for slug, role := range u.Teams {
				if _, err := tx.Exec(ctx, `INSERT INTO memberships (team_id, user_id, role)
					SELECT t.id, u.id, $3 FROM teams t, users u WHERE t.slug = $1 AND lower(u.email) = lower($2)
					ON CONFLICT DO NOTHING`, slug, u.Email, role); err != nil {
					return fmt.Errorf("seed membership %s/%s: %w", u.Email, slug, err)
				}
			}
		}
		return nil
	})
}

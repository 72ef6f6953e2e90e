package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog/contract"
)

// DemoUser is one account of the demo data (docs/design.md, "Demo data").
type DemoUser struct {
	Email, Password, Name string
	Teams                 map[string]contract.Role // team slug -> role
}

// DemoTeam is one team of the demo data.
type DemoTeam struct{ Slug, Name, InvoicePrefix string }

// Demo data, seeded only by the local run command and tests.
var (
	DemoTeams = []DemoTeam{
		{"acme", "Acme Corp", "ACME"},
		{"globex", "Globex", "GLOBEX"},
	}
	DemoUsers = []DemoUser{
		{"alice@example.com", "alice-demo-password", "Alice", map[string]contract.Role{"acme": contract.RoleOwner, "globex": contract.RoleMember}},
		{"bob@example.com", "bob-demo-password", "Bob", map[string]contract.Role{"globex": contract.RoleAdmin}},
		{"carol@example.com", "carol-demo-password", "Carol", nil},
	}
)

// SeedDemo inserts the demo teams, users and memberships. Rows that exist are
// left alone, so it can run on every start. hash turns a password into its
// stored form.
func (s *Store) SeedDemo(ctx context.Context, hash func(string) (string, error)) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, t := range DemoTeams {
			if _, err := tx.Exec(ctx, `INSERT INTO teams (slug, name, invoice_prefix) VALUES ($1, $2, $3)
				ON CONFLICT (slug) DO NOTHING`, t.Slug, t.Name, t.InvoicePrefix); err != nil {
				return fmt.Errorf("seed team %s: %w", t.Slug, err)
			}
		}
		for _, u := range DemoUsers {
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

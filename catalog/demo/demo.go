// Package demo owns the demo data's people and teams (docs/design.md, "Demo
// data"): the consent app's seed-demo inserts them, the MCP server's test
// schema and the end-to-end suite and benchmarks sign in as them. Nothing
// else spells their emails, passwords or team names; the README and
// docs/design.md keep a table of them for people.
//
// Demo data is seeded only by the local run command and the tests, never in
// production, so the passwords here are no secret.
package demo

import "github.com/mcp-oauth/catalog/contract"

// Team is one team of the demo data. Its invoices, estimates and
// transactions carry InvoicePrefix, so a leak across teams shows.
type Team struct{ Slug, Name, InvoicePrefix string }

// User is one account of the demo data.
type User struct {
	Email, Password, Name string
	Teams                 map[string]contract.Role // team slug -> role
}

// The demo teams.
var (
	Acme   = Team{"acme", "Acme Corp", "ACME"}
	Globex = Team{"globex", "Globex", "GLOBEX"}
)

// The demo users.
var (
	// Alice owns Acme Corp and is a member of Globex.
	Alice = User{"alice@example.com", "alice-demo-password", "Alice",
		map[string]contract.Role{Acme.Slug: contract.RoleOwner, Globex.Slug: contract.RoleMember}}
	// Bob administers Globex.
	Bob = User{"bob@example.com", "bob-demo-password", "Bob",
		map[string]contract.Role{Globex.Slug: contract.RoleAdmin}}
	// Carol has an account and no team.
	Carol = User{"carol@example.com", "carol-demo-password", "Carol", nil}
)

// Teams are the demo teams, in seeding order.
func Teams() []Team { return []Team{Acme, Globex} }

// Users are the demo users, in seeding order.
func Users() []User { return []User{Alice, Bob, Carol} }

// Package contract owns the facts the consent app and the MCP server promise
// each other (docs/design.md, "Contracts between the services"), so that each
// is written once and both sides, their tests and the end-to-end suite name
// it from here: the access-token claims, the audit outcomes, the PostgreSQL
// channel that announces connection changes, and the membership roles.
//
// It lives in the catalog module, next to the scopes, because these are the
// same kind of fact — fixed at build time, shared by both services — and the
// module depends on nothing, so every module may import it.
package contract

// Access-token session claims (introspection "ext"). The consent app sets
// them at consent (consent.Claims); the token hook reads back the
// connection's; the MCP server's gate reads the rest.
const (
	// ClaimTeamID is the id of the team the person picked at consent.
	ClaimTeamID = "team_id"
	// ClaimTeamSlug is that team's slug; optional.
	ClaimTeamSlug = "team_slug"
	// ClaimConnectionID is the id of the connection the token stands for.
	ClaimConnectionID = "connection_id"
	// ClaimClientName is the client's name as the person saw it; the token
	// hook records it with the connection.
	ClaimClientName = "client_name"
	// ClaimConnectionScopes are the catalog scopes granted at consent; the
	// token hook records them with the connection.
	ClaimConnectionScopes = "connection_scopes"
	// ClaimStepUp says how the MCP server asks for a missing scope: absent
	// for the standard 403 insufficient_scope challenge, or StepUpByLink.
	ClaimStepUp = "step_up"
)

// StepUpByLink is ClaimStepUp's value for a client that shows a 403
// insufficient_scope as an expired token and never steps up (Claude Code,
// anthropics/claude-code #73712): its tool calls get a tool error with a link
// to the settings page where the person grants the scope to the same
// connection.
const StepUpByLink = "link"

// ConnectionChanged is the PostgreSQL notification channel on which the
// consent app's schema announces, in the same transaction, every connection
// revoked, moved, deleted or given scopes (its migrations 00003 and 00004);
// the payload is the connection's id. Every MCP server replica listens on it
// and drops its cached copy of that connection.
const ConnectionChanged = "connection_changed"

// Outcome is how an MCP tool call went. The MCP server's audit log records
// it (table audit_events, whose CHECK on column outcome lists exactly
// Outcomes), and the consent app's activity view shows it (message
// settings.outcome.<value>, in every language).
type Outcome string

const (
	// OutcomeOK: the tool answered.
	OutcomeOK Outcome = "ok"
	// OutcomeToolError: the tool answered with an error result.
	OutcomeToolError Outcome = "tool_error"
	// OutcomeError: the call failed (unknown tool, invalid arguments).
	OutcomeError Outcome = "error"
	// OutcomeDenied: the gate refused the call for a missing scope.
	OutcomeDenied Outcome = "denied"
	// OutcomeUnavailable: the database failed under the call (the client
	// got a 503).
	OutcomeUnavailable Outcome = "unavailable"
)

// Outcomes lists every Outcome.
func Outcomes() []Outcome {
	return []Outcome{OutcomeOK, OutcomeToolError, OutcomeError, OutcomeDenied, OutcomeUnavailable}
}

// Role is a person's role in a team (table memberships, whose CHECK on
// column role lists exactly Roles). The consent app's settings pages let
// owners and admins manage a team (Manages); the demo data and the tests
// assign them.
type Role string

const (
	RoleOwner  Role = "owner"
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// Roles lists every Role, highest first.
func Roles() []Role { return []Role{RoleOwner, RoleAdmin, RoleMember} }

// Manages reports whether r may manage its team: its members and their
// connections.
func (r Role) Manages() bool { return r == RoleOwner || r == RoleAdmin }

package catalog

import "slices"

// OfflineAccess is the OIDC scope that makes Hydra issue refresh tokens. It is
// not a catalog scope: clients never need to ask for it (see GrantedScopes).
const OfflineAccess = "offline_access"

// Access says whether a scope only reads data or may change it.
type Access string

const (
	Read  Access = "read"
	Write Access = "write"
)

// Scope is one entry of the catalog.
type Scope struct {
	Name   string
	Access Access
	// Baseline scopes are what a client asks for when it first connects: the
	// MCP server names them in its 401 challenge and its metadata. The others
	// are obtained by step-up when a tool needs them, so a first consent
	// never grants more than reading.
	Baseline bool
	// Label and Description are the English texts shown on the consent page.
	Label       string
	Description string
	// Tools are the MCP tools this scope unlocks.
	Tools []string
}

// NoScopeTools lists the tools any valid token may call.
var NoScopeTools = []string{"whoami"}

var scopes = []Scope{
	{
		Name:        "invoices:read",
		Access:      Read,
		Baseline:    true,
		Label:       "View invoices and estimates",
		Description: "See the team's invoices, their line items and estimates.",
		Tools:       []string{"list_invoices", "get_invoice", "list_estimates"},
	},
	{
		Name:        "invoices:write",
		Access:      Write,
		Label:       "Create and send invoices and estimates",
		Description: "Create new invoices and estimates in the team's name.",
		Tools:       []string{"create_invoice"},
	},
	{
		Name:        "accounting:read",
		Access:      Read,
		Baseline:    true,
		Label:       "View transactions and balances",
		Description: "See the team's bank transactions and account balances.",
		Tools:       []string{"list_transactions"},
	},
	{
		Name:        "accounting:write",
		Access:      Write,
		Label:       "Create and modify transactions",
		Description: "Record new transactions in the team's books.",
		Tools:       []string{"create_transaction"},
	},
}

// All returns the catalog in display order. The caller may not modify it.
func All() []Scope { return scopes }

// Names returns the catalog's scope names in display order.
func Names() []string {
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = s.Name
	}
	return names
}

// BaselineNames returns the baseline scopes in display order (see
// Scope.Baseline).
func BaselineNames() []string {
	var names []string
	for _, s := range scopes {
		if s.Baseline {
			names = append(names, s.Name)
		}
	}
	return names
}

// Lookup returns the scope with the given name.
func Lookup(name string) (Scope, bool) {
	for _, s := range scopes {
		if s.Name == name {
			return s, true
		}
	}
	return Scope{}, false
}

// ScopeForTool returns the scope a tool needs. needed is "" for a tool any
// valid token may call; known is false for a tool the catalog does not know,
// which callers must refuse.
func ScopeForTool(tool string) (needed string, known bool) {
	if slices.Contains(NoScopeTools, tool) {
		return "", true
	}
	for _, s := range scopes {
		if slices.Contains(s.Tools, tool) {
			return s.Name, true
		}
	}
	return "", false
}

// Known keeps the requested scopes that are in the catalog, in catalog order,
// without duplicates. Anything else is dropped silently: an unknown scope is
// never an error.
func Known(requested []string) []string {
	var out []string
	for _, s := range scopes {
		if slices.Contains(requested, s.Name) {
			out = append(out, s.Name)
		}
	}
	return out
}

// ClientScopes is the scope value every registered client gets in Hydra: the
// whole catalog plus offline_access. Hydra refuses at /oauth2/auth any scope
// outside a client's registered scope, so registering less would make later
// step-ups fail.
func ClientScopes() []string {
	return append(Names(), OfflineAccess)
}

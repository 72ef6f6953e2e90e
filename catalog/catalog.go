package catalog

import (
	"embed"
	"encoding/json"
	"io/fs"
	"slices"
	"sync"
)

// OfflineAccess is the OIDC scope that makes Hydra issue refresh tokens. It is
// not a catalog scope: clients never need to ask for it (see GrantedScopes).
const OfflineAccess = "offline_access"

// Access says whether a scope only reads data or may change it.
type Access string

const (
	Read  Access = "read"
	Write Access = "write"
)

// Scope is one entry of the catalog. Its label and description, in every
// language, are in the message files (see MessageFiles).
type Scope struct {
	Name   string
	Access Access
	// Baseline scopes are what a client asks for when it first connects: the
	// MCP server names them in its 401 challenge and its metadata. The others
	// are obtained by step-up when a tool needs them, so a first consent
	// never grants more than reading.
	Baseline bool
	// Tools are the MCP tools this scope unlocks.
	Tools []string
}

// NoScopeTools lists the tools any valid token may call.
var NoScopeTools = []string{"whoami"}

var scopes = []Scope{
	{
		Name:     "invoices:read",
		Access:   Read,
		Baseline: true,
		Tools:    []string{"list_invoices", "get_invoice", "list_estimates"},
	},
	{
		Name:   "invoices:write",
		Access: Write,
		Tools:  []string{"create_invoice"},
	},
	{
		Name:     "accounting:read",
		Access:   Read,
		Baseline: true,
		Tools:    []string{"list_transactions"},
	},
	{
		Name:   "accounting:write",
		Access: Write,
		Tools:  []string{"create_transaction"},
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

//go:embed messages/*.json
var messages embed.FS

// MessageFiles holds the scope texts as go-i18n message files, one per
// language, named scopes.<language>.json. Each catalog scope has a one-line
// label (LabelID) and a one-sentence description (DescriptionID) in every
// file. The consent app loads them into its translation bundle.
func MessageFiles() fs.FS {
	sub, _ := fs.Sub(messages, "messages")
	return sub
}

// LabelID is the message id of the scope's label: what the app may do, in a
// few words.
func LabelID(scope string) string { return "scope." + scope + ".label" }

// DescriptionID is the message id of the scope's description: one sentence
// on what the label means for the team's data.
func DescriptionID(scope string) string { return "scope." + scope + ".description" }

// englishMessages are the English scope texts, read once.
var englishMessages = sync.OnceValue(func() map[string]string {
	raw, _ := messages.ReadFile("messages/scopes.en.json")
	m := map[string]string{}
	_ = json.Unmarshal(raw, &m) // TestEveryScopeIsTranslated checks the file
	return m
})

// EnglishLabel returns the scope's label in English, for text the MCP server
// writes to an agent, which has no language to choose by; "" for a scope
// outside the catalog.
func EnglishLabel(scope string) string { return englishMessages()[LabelID(scope)] }

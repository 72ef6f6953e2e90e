package clientmeta

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/register"
)

// builtinKnown are the metadata documents of the clients people use, pinned
// here so that they work where the auth server cannot reach the internet
// and cannot change under us. Each entry says where its copy came from.
//
//go:embed known_clients.json
var builtinKnown []byte

// KnownClient is a client whose metadata document this server keeps
// instead of fetching it. It is named on the consent page by Name and
// Publisher — only when the client_id is exactly ClientID.
type KnownClient struct {
	ClientID  string `json:"client_id"`
	Name      string `json:"name"`
	Publisher string `json:"publisher"`
	// Source says where the pinned document came from.
	Source string `json:"source"`
	// StepUp is how the MCP server asks this client's user for a scope the
	// token lacks: "" for the standard 403 insufficient_scope challenge, or
	// contract.StepUpByLink for a client known to mishandle that challenge
	// (the consent app passes it on as the token's contract.ClaimStepUp).
	StepUp string `json:"step_up,omitempty"`
	// Disabled, in an operator's file, switches off a built-in entry: that
	// client's document is then fetched like any other.
	Disabled bool            `json:"disabled,omitempty"`
	Document json.RawMessage `json:"document,omitempty"`
}

// Known is the catalog of pinned clients. The nil *Known knows none.
type Known struct{ clients map[string]KnownClient }

// LoadKnown returns the built-in catalog with an operator's file of entries
// applied on top ("" = none): an entry adds a client or replaces the one
// with its client_id, and one with "disabled": true removes it. Every
// document is checked as a fetched one would be; all problems are reported
// at once.
func LoadKnown(operatorFile string) (*Known, error) {
	k := &Known{clients: map[string]KnownClient{}}
	var builtin []KnownClient
	if err := json.Unmarshal(builtinKnown, &builtin); err != nil {
		return nil, fmt.Errorf("built-in known clients: %w", err)
	}
	var errs []error
	for _, c := range builtin {
		errs = append(errs, k.add(c, "built-in"))
	}
	if operatorFile != "" {
		raw, err := os.ReadFile(operatorFile)
		if err != nil {
			return nil, fmt.Errorf("KNOWN_CLIENTS_FILE: %w", err)
		}
		var entries []KnownClient
		if err := json.Unmarshal(raw, &entries); err != nil {
			return nil, fmt.Errorf("KNOWN_CLIENTS_FILE %s: want a JSON array of {client_id, name, publisher, source, document} or {client_id, disabled: true}: %v", operatorFile, err)
		}
		for _, c := range entries {
			errs = append(errs, k.add(c, "KNOWN_CLIENTS_FILE"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Known) add(c KnownClient, origin string) error {
	if c.Disabled {
		delete(k.clients, c.ClientID)
		return nil
	}
	if err := checkKnown(c); err != nil {
		return fmt.Errorf("%s known client %q: %w", origin, c.ClientID, err)
	}
	k.clients[c.ClientID] = c
	return nil
}

func checkKnown(c KnownClient) error {
	if _, err := ParseURL(c.ClientID, false); err != nil {
		return err
	}
	for field, v := range map[string]string{"name": c.Name, "publisher": c.Publisher, "source": c.Source} {
		if strings.TrimSpace(v) == "" || strings.ContainsFunc(v, register.HiddenRune) {
			return fmt.Errorf("%s must be plain, non-empty text", field)
		}
	}
	if c.StepUp != "" && c.StepUp != contract.StepUpByLink {
		return fmt.Errorf("step_up must be %q or absent, not %q", contract.StepUpByLink, c.StepUp)
	}
	_, err := ValidateDocument(c.Document, c.ClientID)
	return err
}

// Lookup returns the pinned client whose client_id is exactly clientID.
func (k *Known) Lookup(clientID string) (KnownClient, bool) {
	if k == nil {
		return KnownClient{}, false
	}
	c, ok := k.clients[clientID]
	return c, ok
}

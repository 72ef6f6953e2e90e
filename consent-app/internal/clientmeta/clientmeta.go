// Package clientmeta accepts OAuth Client ID Metadata Documents
// (draft-ietf-oauth-client-id-metadata-document, which MCP 2025-11-25 prefers
// to registration): a client whose client_id is an https URL publishes its
// metadata at that URL instead of registering. The auth origin fetches the
// document safely, checks it, and mirrors it into a Hydra client whose id is
// derived from the URL — Hydra's admin routes cannot address a URL-shaped id
// (docs/design.md quirk 14) — and the edge puts that id in place of the URL on
// /oauth2/auth, /oauth2/token and /oauth2/revoke.
package clientmeta

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/authorize"
	"github.com/mcp-oauth/consent-app/internal/register"
)

// Error is a problem with a client's identifier URL or its document. It is
// the client developer's to fix, and its description is safe to show.
type Error struct{ Description string }

func (e *Error) Error() string { return e.Description }

func errorf(format string, a ...any) *Error { return &Error{Description: fmt.Sprintf(format, a...)} }

// registeredVia marks Hydra clients mirrored from a metadata document; only
// this package writes it, so a client cannot claim it.
const registeredVia = "client_id_metadata_document"

// IsURL reports whether a client_id is meant as a metadata document URL
// rather than an id we issued.
func IsURL(clientID string) bool {
	lower := strings.ToLower(clientID)
	return strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "http://")
}

// HydraID is the Hydra client id that stands for a client identifier URL:
// stable, so every instance of the consent app derives the same one, and
// free of characters that break Hydra's admin routes.
func HydraID(clientIDURL string) string {
	sum := sha256.Sum256([]byte(clientIDURL))
	return "cimd-" + hex.EncodeToString(sum[:20])
}

// TranslateClientID returns the Hydra id for a URL-shaped client_id and any
// other client_id unchanged.
func TranslateClientID(clientID string) string {
	if IsURL(clientID) {
		return HydraID(clientID)
	}
	return clientID
}

// ParseURL checks a client identifier URL (draft §3): https with a host and
// a path other than "/", without dot segments, fragment, user information or
// query. With allowLoopback (development only) loopback hosts may use http.
func ParseURL(raw string, allowLoopback bool) (*url.URL, error) {
	if !utf8.ValidString(raw) {
		return nil, errorf("client_id %q is not valid UTF-8", raw)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, errorf("client_id %q is not an absolute URL", raw)
	}
	loopback := authorize.IsLoopback(u.Hostname())
	switch {
	case loopback && !allowLoopback:
		return nil, errorf("client_id %q names this computer; loopback client_id URLs are accepted only in development mode", raw)
	case u.Scheme == "http" && !loopback, u.Scheme != "https" && u.Scheme != "http":
		return nil, errorf("client_id URLs must use https; %q does not", raw)
	case u.Path == "" || u.Path == "/":
		return nil, errorf("client_id %q has no path; the metadata document must be at a path such as /client.json", raw)
	case u.User != nil:
		return nil, errorf("client_id %q carries user information", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, errorf("client_id %q has a fragment", raw)
	case u.RawQuery != "" || strings.Contains(raw, "?"):
		return nil, errorf("client_id %q has a query; client_id URLs must not", raw)
	case slices.ContainsFunc(strings.Split(u.EscapedPath(), "/"), func(s string) bool { return s == "." || s == ".." }):
		return nil, errorf("client_id %q has a . or .. path segment", raw)
	}
	return u, nil
}

// refused are members a metadata document may not contain: there is no way
// to agree on a shared secret with a client known only by its URL.
var refused = []string{"client_secret", "client_secret_expires_at"}

// ValidateDocument checks a fetched document against its URL and our
// registration rules, and returns the metadata to register. It is pure.
func ValidateDocument(body []byte, clientIDURL string) (register.Metadata, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return register.Metadata{}, errorf("the client metadata document at %s is not a JSON object", clientIDURL)
	}
	for _, name := range refused {
		if _, ok := members[name]; ok {
			return register.Metadata{}, errorf("the client metadata document at %s contains %s; documents must not carry secrets", clientIDURL, name)
		}
	}
	var doc struct {
		register.Metadata
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return register.Metadata{}, errorf("the client metadata document at %s has a member of the wrong type", clientIDURL)
	}
	if doc.ClientID != clientIDURL {
		return register.Metadata{}, errorf("the client metadata document at %s gives client_id %q; it must be the document's own URL, exactly", clientIDURL, doc.ClientID)
	}
	m := doc.Metadata
	// A document is published for every server, not a request to this one:
	// grants we do not serve (Claude's lists jwt-bearer) are left out
	// rather than refused. What remains must still include the code grant.
	if len(m.GrantTypes) > 0 {
		m.GrantTypes = slices.DeleteFunc(m.GrantTypes, func(g string) bool { return !slices.Contains(register.GrantTypes, g) })
		if len(m.GrantTypes) == 0 {
			return register.Metadata{}, errorf("the client metadata document at %s lists no grant type this server serves; include authorization_code", clientIDURL)
		}
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = "none"
	}
	if m.TokenEndpointAuthMethod != "none" {
		return register.Metadata{}, errorf("the client metadata document at %s asks for token_endpoint_auth_method %q; only none is accepted for metadata-document clients", clientIDURL, m.TokenEndpointAuthMethod)
	}
	if verr := register.Validate(&m); verr != nil {
		return register.Metadata{}, errorf("the client metadata document at %s: %s", clientIDURL, verr.Description)
	}
	return m, nil
}

// HydraClient is the Hydra client mirroring a validated document.
func HydraClient(m register.Metadata, clientIDURL string, u *url.URL, mcpResourceURL string) hydra.OAuth2Client {
	m.ClientName = NameOr(m.ClientName, u.Host)
	cl := register.HydraClient(m, mcpResourceURL)
	id := HydraID(clientIDURL)
	cl.ClientId = &id
	cl.Metadata = map[string]any{"registered_via": registeredVia, "client_id_url": clientIDURL}
	return cl
}

// DisplayName is the name a client goes by on the sign-in and consent
// pages and in the connection recorded for it: its client_name without
// surrounding space, else its client_id; "?" for no client at all.
func DisplayName(c *hydra.OAuth2Client) string {
	if c == nil {
		return "?"
	}
	return NameOr(c.GetClientName(), c.GetClientId())
}

// NameOr returns name without surrounding space, or fallback when nothing
// is left of it: the one rule for a client name that may be missing.
func NameOr(name, fallback string) string {
	if n := strings.TrimSpace(name); n != "" {
		return n
	}
	return fallback
}

// Initial is the letter on a client's avatar, from its display name: the
// pages never load a client's logo from its URL.
func Initial(name string) string {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return string(unicode.ToUpper(r))
		}
	}
	return "?"
}

// DocumentURL returns the client_id URL that a Hydra client mirrors, or ""
// for a client that registered itself, whatever its metadata claims.
func DocumentURL(c *hydra.OAuth2Client) string {
	if c == nil {
		return ""
	}
	meta, _ := c.Metadata.(map[string]any)
	via, _ := meta["registered_via"].(string)
	raw, _ := meta["client_id_url"].(string)
	if via != registeredVia || raw == "" || HydraID(raw) != c.GetClientId() {
		return ""
	}
	return raw
}

// VerifiedHost returns the host that vouches for a client — the host of its
// metadata document — or "" for a client that registered itself, whose name
// is only its own claim.
func VerifiedHost(c *hydra.OAuth2Client) string {
	raw := DocumentURL(c)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// Package prm serves the OAuth 2.0 Protected Resource Metadata document
// (RFC 9728) that tells MCP clients which authorization server to use and
// which scopes exist.
package prm

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/mcp-oauth/catalog"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// WellKnownPrefix is the RFC 9728 well-known path segment.
const WellKnownPrefix = "/.well-known/oauth-protected-resource"

// Path returns the metadata path for resource: the well-known prefix followed
// by the resource's path (RFC 9728 §3.1), e.g.
// /.well-known/oauth-protected-resource/mcp for http://localhost:8080/mcp.
// resource must be a URL that config.Validate accepted (absolute, with a
// plain path).
func Path(resource string) string {
	u, _ := url.Parse(resource)
	return WellKnownPrefix + u.Path
}

// URL returns the absolute metadata URL for resource, as sent in the
// resource_metadata parameter of WWW-Authenticate challenges.
func URL(resource string) string {
	u, _ := url.Parse(resource)
	return u.Scheme + "://" + u.Host + Path(resource)
}

// Document builds the metadata for resource. The resource is copied byte for
// byte: clients reject metadata whose resource differs from the URL they
// connected to. scopes_supported is the catalog's baseline, like the 401
// challenge: a client that reads its scopes here asks for what a first
// connection needs, and gets the rest by step-up when a tool needs them
// (MCP security best practices, scope minimization). offline_access is not
// listed: it is not a resource scope.
func Document(resource, issuer string) *oauthex.ProtectedResourceMetadata {
	return &oauthex.ProtectedResourceMetadata{
		Resource:               resource,
		AuthorizationServers:   []string{issuer},
		ScopesSupported:        catalog.BaselineNames(),
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "Invoices MCP server",
	}
}

// Handler serves doc as JSON. The document is public (RFC 9728 §3), so any
// origin may read it. Route it with a GET pattern: other methods are refused
// by the mux.
func Handler(doc *oauthex.ProtectedResourceMetadata) http.Handler {
	body, err := json.Marshal(doc)
	if err != nil {
		// The document is plain strings; failing here is a programming error.
		panic("prm: encode metadata: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(body)
	})
}

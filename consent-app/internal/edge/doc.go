// Package edge is what makes Hydra fit MCP clients at the public auth origin:
// a reverse proxy for Hydra's public endpoints (so the issuer, its cookies and
// its endpoints share one origin) that adds what Hydra v2.3.0 lacks on the way
// (client_id URLs, RFC 9207 iss, unknown scopes dropped), the corrected
// discovery documents (docs/design.md quirk 1), and CORS for browser-based clients.
package edge

// Package edge is what makes Hydra fit MCP clients at the public auth origin:
// a reverse proxy for Hydra's public endpoints (so the issuer, its cookies and
// its endpoints share one origin) and the corrected discovery documents that
// Hydra v2.3.0 lacks or gets wrong for MCP clients (DESIGN.md trap 1).
package edge

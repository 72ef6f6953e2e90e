// Package catalog is the one source of truth for the OAuth scopes the MCP server
// understands: their names, whether they read or write, their English labels and
// which tools each one unlocks. The consent app's registration front, metadata
// documents and consent page, and the MCP server's metadata and tool gating all
// read it; nothing else lists scopes.
package catalog

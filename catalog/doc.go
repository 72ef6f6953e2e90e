// Package catalog is the one source of truth for the OAuth scopes the MCP server
// understands: their names, whether they read or write, which tools each one
// unlocks, and their labels and descriptions in every language (go-i18n message
// files under messages/). The consent app's registration front, metadata
// documents and consent page, and the MCP server's metadata and tool gating all
// read it; nothing else lists scopes.
//
// The module's other packages own the other facts the two services share:
// contract (access-token claim names, audit outcomes, the connection_changed
// channel, membership roles) and demo (the demo users and teams).
package catalog

// Package server assembles the HTTP surface: health check, protected
// resource metadata, and the MCP endpoint behind the gate.
package server

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcp-oauth/mcp-server/internal/config"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/prm"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options are the parts the handler is built from.
type Options struct {
	// Resource is the canonical MCP URL (config.Validate checked it).
	Resource string
	// Issuer is the authorization server advertised in the metadata.
	Issuer string
	// Gate protects the MCP endpoint.
	Gate func(http.Handler) http.Handler
	// MCP is the server behind the endpoint.
	MCP    *mcp.Server
	Logger *slog.Logger
}

// Handler returns the server's routes.
func Handler(opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	})

	// Both the path-suffixed form (RFC 9728 §3.1, what the challenge points
	// to) and the root form, which some clients try first.
	metadata := prm.Handler(prm.Document(opts.Resource, opts.Issuer))
	mux.Handle("GET "+exact(prm.Path(opts.Resource)), metadata)
	mux.Handle("GET "+prm.WellKnownPrefix, metadata)

	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return opts.MCP }, &mcp.StreamableHTTPOptions{
		// Stateless: every POST carries its own token and is verified on
		// its own, so no session can outlive a revoked connection and any
		// replica can serve any request behind a plain load balancer.
		Stateless: true,
		// Plain JSON answers rather than SSE streams: the tools send no
		// progress, proxies pass JSON unbuffered, and the gate can still
		// turn a database failure into a 503 (the answer is written only
		// once the tool has returned).
		JSONResponse: true,
		// The SDK refuses a non-loopback Host on a loopback listener (DNS
		// rebinding). Behind a reverse proxy on the same machine every
		// request has the public Host, so there the gate's host check,
		// which knows the public name, takes over.
		DisableLocalhostProtection: !config.IsLoopback(resourceHost(opts.Resource)),
		Logger:                     opts.Logger,
		MaxRequestBodyBytes:        gate.MaxBodyBytes,
	})
	mux.Handle(exact(mcpPath(opts.Resource)), opts.Gate(mcpHandler))
	return mux
}

func mcpPath(resource string) string {
	u, _ := url.Parse(resource)
	return u.Path
}

func resourceHost(resource string) string {
	u, _ := url.Parse(resource)
	return u.Hostname()
}

// exact turns a path into a mux pattern that matches only that path: a
// trailing slash would otherwise match the whole subtree.
func exact(path string) string {
	if strings.HasSuffix(path, "/") {
		return path + "{$}"
	}
	return path
}

// Package server assembles the HTTP surface: health check, protected
// resource metadata, and the MCP endpoint behind the gate.
package server

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcp-oauth/mcp-server/internal/config"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/prm"
	"github.com/mcp-oauth/mcp-server/internal/telemetry"
	"github.com/mcp-oauth/ops/health"
	"github.com/mcp-oauth/ops/requestid"
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
	MCP *mcp.Server
	// Ready answers /readyz; nil answers 200 (tests).
	Ready http.Handler
	// Metrics counts requests by route; nil counts nothing.
	Metrics *telemetry.Metrics
	Logger  *slog.Logger
}

// Handler returns the server's routes.
func Handler(opts Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", health.Live)
	ready := opts.Ready
	if ready == nil {
		ready = http.HandlerFunc(health.Live)
	}
	mux.Handle("GET /readyz", ready)

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
	return requestid.Middleware(countRequests(opts.Metrics, opts.Logger, mux))
}

// countRequests records each request under the route pattern that served it
// (never the raw path), and logs it at debug level: never the query or a
// header, where credentials travel.
func countRequests(m *telemetry.Metrics, log *slog.Logger, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(sw, r)
		_, pattern := mux.Handler(r)
		elapsed := time.Since(start)
		m.Request(pattern, sw.status, elapsed)
		// Checked first: building the line would cost allocations on every
		// request at info level too.
		if log.Enabled(r.Context(), slog.LevelDebug) {
			log.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("method", r.Method), slog.String("route", pattern),
				slog.Int("status", sw.status), slog.Duration("duration", elapsed))
		}
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (flushing for streamed answers).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

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

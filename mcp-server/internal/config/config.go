// Package config reads the MCP server's settings from the environment. The
// server takes no flags and no files: every deployment (local run, e2e, Helm)
// sets the same variables.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/mcp-oauth/ops/envconfig"
	"github.com/mcp-oauth/ops/service"
)

// Vars declares every environment variable the MCP server reads: the one
// place they are named, with their defaults and meaning (README's table is
// printed from it by `mcp-server config-vars`).
var Vars = []envconfig.Var{
	envconfig.ModeVar,
	envconfig.LogLevelVar,
	{Name: "LISTEN_ADDR", Default: DefaultListenAddr, Meaning: "where the HTTP server listens (MCP endpoint, metadata, health)"},
	{Name: "METRICS_ADDR", Meaning: "where Prometheus `/metrics` is served, apart from the public listener; empty disables it"},
	{Name: "MCP_RESOURCE_URL", Default: DefaultResourceURL, Meaning: "the canonical MCP URL: the metadata's `resource`, the only token audience accepted, and (by its path) where MCP is served"},
	{Name: "AUTH_ISSUER", Default: DefaultAuthIssuer, Meaning: "the authorization server advertised in the protected resource metadata: the consent app's origin"},
	{Name: "HYDRA_ADMIN_URL", Default: DefaultHydraAdminURL, Meaning: "Hydra's admin API, for token introspection; never expose it"},
	{Name: "DATABASE_URL", Meaning: "PostgreSQL URL of the app database shared with the consent app (required)", Secret: true},
	{Name: "INTROSPECTION_CACHE_TTL", Default: DefaultIntrospectionCacheTTL.String(), Meaning: "how long an introspection answer is reused (bounded by the token's expiry too); 0 turns reuse off"},
	{Name: "VERIFY_TIMEOUT", Default: DefaultVerifyTimeout.String(), Meaning: "bound on verifying one request (introspection and connection lookup); past it the answer is 503"},
	{Name: "CONNECTION_CACHE_TTL", Default: short(DefaultConnectionCacheTTL), Meaning: "how long a connection's state is kept in memory; a revocation drops it on every replica when PostgreSQL's notification arrives (LISTEN/NOTIFY, milliseconds), so this only bounds a listener that died unnoticed; 0 reads the database on every request"},
	{Name: "AUDIT_RETENTION", Default: short(DefaultAuditRetention), Meaning: "how long tool calls are kept in the audit log (90 days); older ones are deleted hourly"},
}

// Config is the server's whole configuration.
type Config struct {
	// Mode is production (https only, no demo data) or development.
	Mode envconfig.Mode
	// LogLevel is the least severe level logged; debug adds a line per
	// request and per accepted token.
	LogLevel slog.Level
	// ListenAddr is the host:port the HTTP server binds.
	ListenAddr string
	// MetricsAddr is where /metrics is served; "" = nowhere.
	MetricsAddr string
	// ResourceURL is the canonical MCP URL. It is the PRM "resource", the only
	// audience accepted in tokens, and (by its path) where MCP is served.
	// Clients compare it byte for byte, so it is used exactly as configured.
	ResourceURL string
	// AuthIssuer is the authorization server advertised in the PRM document:
	// the consent app's public origin, which is Hydra's issuer.
	AuthIssuer string
	// HydraAdminURL is Hydra's admin API, used for token introspection.
	HydraAdminURL string
	// DatabaseURL is the app database shared with the consent app.
	DatabaseURL string
	// IntrospectionCacheTTL bounds how long an introspection answer is
	// reused (the token's expiry bounds it too). It is the longest a token
	// that Hydra revoked can still be used here; revoking a connection
	// takes effect at once regardless. 0 turns reuse off.
	IntrospectionCacheTTL time.Duration
	// VerifyTimeout bounds the verification of one request (introspection
	// and connection lookup); past it the server answers 503.
	VerifyTimeout time.Duration
	// ConnectionCacheTTL bounds how long a connection's state is kept in
	// memory (package connections); 0 = not at all.
	ConnectionCacheTTL time.Duration
	// AuditRetention is how long audit events are kept.
	AuditRetention time.Duration

	// readErr holds what else went wrong while reading (MODE, a _FILE).
	readErr error
}

// Defaults match the local run command described in the README.
const (
	DefaultListenAddr            = "localhost:8080"
	DefaultResourceURL           = "http://localhost:8080/mcp"
	DefaultAuthIssuer            = "http://localhost:3000"
	DefaultHydraAdminURL         = "http://127.0.0.1:4445"
	DefaultIntrospectionCacheTTL = 30 * time.Second
	DefaultVerifyTimeout         = 5 * time.Second
	DefaultConnectionCacheTTL    = 5 * time.Minute
	DefaultAuditRetention        = 90 * 24 * time.Hour
)

// Limits of the durations, checked by Validate.
const (
	maxIntrospectionCacheTTL = time.Hour
	maxVerifyTimeout         = time.Minute
	maxConnectionCacheTTL    = time.Hour
	minAuditRetention        = time.Hour
)

// FromEnv builds a Config from getenv (os.Getenv in production), applying the
// defaults for unset variables. Call Validate before using it.
func FromEnv(getenv func(string) string) Config {
	src := envconfig.New(Vars, func(k string) string { return strings.TrimSpace(getenv(k)) })
	mode, modeErr := envconfig.ParseMode(src.String("MODE"))
	level, levelErr := envconfig.ParseLogLevel(src.String("LOG_LEVEL"))
	cfg := Config{
		Mode:          mode,
		LogLevel:      level,
		ListenAddr:    src.String("LISTEN_ADDR"),
		MetricsAddr:   src.String("METRICS_ADDR"),
		ResourceURL:   src.String("MCP_RESOURCE_URL"),
		AuthIssuer:    src.String("AUTH_ISSUER"),
		HydraAdminURL: src.String("HYDRA_ADMIN_URL"),
		DatabaseURL:   src.String("DATABASE_URL"),
	}
	cfg.IntrospectionCacheTTL = src.Duration("INTROSPECTION_CACHE_TTL")
	cfg.VerifyTimeout = src.Duration("VERIFY_TIMEOUT")
	cfg.ConnectionCacheTTL = src.Duration("CONNECTION_CACHE_TTL")
	cfg.AuditRetention = src.Duration("AUDIT_RETENTION")
	cfg.readErr = errors.Join(modeErr, levelErr, src.Err())
	return cfg
}

// Validate reports every problem at once, so an operator fixes the
// environment in one go instead of one restart per mistake.
func (c Config) Validate() error {
	errs := []error{c.readErr}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR %q: want host:port: %v", c.ListenAddr, err))
	}
	if err := envconfig.CheckPublicURL(c.Mode, "MCP_RESOURCE_URL", c.ResourceURL); err != nil {
		errs = append(errs, err)
	} else if err := checkResourcePath(c.ResourceURL); err != nil {
		errs = append(errs, fmt.Errorf("MCP_RESOURCE_URL %q: %w", c.ResourceURL, err))
	}
	if err := envconfig.CheckPublicURL(c.Mode, "AUTH_ISSUER", c.AuthIssuer); err != nil {
		errs = append(errs, err)
	} else if strings.HasSuffix(c.AuthIssuer, "/") {
		// Hydra's issuer has no trailing slash and clients compare issuers
		// exactly (RFC 8414 §3.3).
		errs = append(errs, fmt.Errorf("AUTH_ISSUER %q: drop the trailing slash", c.AuthIssuer))
	}
	errs = append(errs, envconfig.CheckURL("HYDRA_ADMIN_URL", c.HydraAdminURL))
	if c.IntrospectionCacheTTL < 0 || c.IntrospectionCacheTTL > maxIntrospectionCacheTTL {
		errs = append(errs, fmt.Errorf("INTROSPECTION_CACHE_TTL %s: want 0 (no reuse) up to %s", c.IntrospectionCacheTTL, maxIntrospectionCacheTTL))
	}
	if c.VerifyTimeout <= 0 || c.VerifyTimeout > maxVerifyTimeout {
		errs = append(errs, fmt.Errorf("VERIFY_TIMEOUT %s: want more than 0, at most %s", c.VerifyTimeout, maxVerifyTimeout))
	}
	if c.ConnectionCacheTTL < 0 || c.ConnectionCacheTTL > maxConnectionCacheTTL {
		errs = append(errs, fmt.Errorf("CONNECTION_CACHE_TTL %s: want 0 (no cache) up to %s", c.ConnectionCacheTTL, maxConnectionCacheTTL))
	}
	if c.AuditRetention < minAuditRetention {
		errs = append(errs, fmt.Errorf("AUDIT_RETENTION %s: want at least %s", c.AuditRetention, minAuditRetention))
	}
	errs = append(errs, envconfig.CheckDatabaseURL(c.DatabaseURL))
	return errors.Join(errs...)
}

// short writes d as an operator would: 5m rather than 5m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// Common is what the service skeleton (ops/service) uses.
func (c Config) Common() service.Common {
	return service.Common{Mode: c.Mode, LogLevel: c.LogLevel, ListenAddr: c.ListenAddr, DatabaseURL: c.DatabaseURL}
}

// IntrospectionURL is Hydra's admin introspection endpoint.
func (c Config) IntrospectionURL() string {
	return strings.TrimSuffix(c.HydraAdminURL, "/") + "/admin/oauth2/introspect"
}

// checkResourcePath keeps the MCP path simple enough to be used verbatim in
// routes and in the metadata URL: unreserved characters and slashes only,
// and clear of the paths the server keeps for itself.
func checkResourcePath(raw string) error {
	u, _ := url.Parse(raw)
	p := u.Path
	switch {
	case p == "" || p == "/":
		return errors.New("needs a path (for example /mcp); the root is kept for metadata and health checks")
	case strings.Trim(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/") != "" || u.RawPath != "":
		return errors.New("path may only use letters, digits, '-', '.', '_', '~' and '/'")
	case path.Clean(p) != strings.TrimSuffix(p, "/"):
		return errors.New("path must be clean (no empty, '.' or '..' segments)")
	case p == "/healthz" || strings.HasPrefix(p, "/.well-known/"):
		return fmt.Errorf("path %s is reserved", p)
	}
	return nil
}

// IsLoopback reports whether host (without port) names the local machine.
func IsLoopback(host string) bool { return envconfig.IsLoopback(host) }

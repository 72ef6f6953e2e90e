// Package config reads the consent app's settings from the environment and
// validates them once at start-up.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/ops/envconfig"
	"github.com/mcp-oauth/ops/service"
)

// Vars declares every environment variable the consent app reads: the one
// place they are named, with their defaults and meaning (README's table is
// printed from it by `consent-app config-vars`).
var Vars = []envconfig.Var{
	envconfig.ModeVar,
	envconfig.LogLevelVar,
	{Name: "LISTEN_ADDR", Default: "localhost:3000", Meaning: "where the public HTTP server listens"},
	{Name: "METRICS_ADDR", Meaning: "where Prometheus `/metrics` is served, apart from the public listener; empty disables it"},
	{Name: "PUBLIC_URL", Default: "http://localhost:3000", Meaning: "the auth origin and OAuth issuer: scheme and host, no path or trailing slash"},
	{Name: "MCP_RESOURCE_URL", Default: "http://localhost:8080/mcp", Meaning: "the canonical MCP server URL, the only audience tokens are granted for"},
	{Name: "HYDRA_PUBLIC_URL", Default: "http://127.0.0.1:4444", Meaning: "Hydra's public listener, reached only through this app's proxy"},
	{Name: "HYDRA_ADMIN_URL", Default: "http://127.0.0.1:4445", Meaning: "Hydra's admin API; never expose it"},
	{Name: "DATABASE_URL", Meaning: "PostgreSQL URL of the app database (required)", Secret: true},
	{Name: "TOKEN_HOOK_API_KEY", Meaning: "key Hydra sends in X-Token-Hook-Key when it calls the token hook (required, 16+ characters)", Secret: true},
	{Name: "COOKIE_SECRET", Meaning: "keys the CSRF tokens (required, 32+ characters)", Secret: true},
	{Name: "TRUSTED_PROXIES", Meaning: "comma-separated IPs or CIDR ranges of reverse proxies whose X-Forwarded-For is believed for sign-in throttling"},
	{Name: "CLIENT_METADATA_ALLOW_LOOPBACK", Default: "false", Meaning: "development only: accept Client ID Metadata Documents on loopback hosts"},
	{Name: "CLIENT_METADATA_CA_FILE", Meaning: "development only: PEM file of extra CAs trusted when fetching Client ID Metadata Documents"},
	{Name: "KNOWN_CLIENTS_FILE", Meaning: "JSON file of pinned Client ID Metadata Documents added to the built-in ones (Claude Code, Claude, Codex, ChatGPT, VS Code), replacing one by its `client_id`, or switching one off with `\"disabled\": true`; see docs/known-clients.md"},
	{Name: "HYGIENE_INTERVAL", Default: "1h", Meaning: "how often unused registered clients are deleted from Hydra (one replica at a time); 0 turns the job off (run `consent-app hygiene` instead)"},
	{Name: "CLIENT_UNAUTHORIZED_TTL", Default: "24h", Meaning: "a self-registered client nobody authorized within this time after registering is deleted"},
	{Name: "CLIENT_IDLE_TTL", Default: "2160h", Meaning: "a self-registered client with no authorization or tool call for this long (90 days) is deleted"},
}

// Config is the consent app's configuration; see Vars for each field's
// variable.
type Config struct {
	Mode           envconfig.Mode
	LogLevel       slog.Level
	ListenAddr     string
	MetricsAddr    string
	PublicURL      string
	MCPResourceURL string
	HydraPublicURL string
	HydraAdminURL  string
	DatabaseURL    string
	// TokenHookAPIKey is the key Hydra sends in X-Token-Hook-Key when it
	// calls our token hook.
	TokenHookAPIKey string
	CookieSecret    string
	// TrustedProxies are the reverse proxies in front of the app. Only their
	// X-Forwarded-For is believed when sign-ins are throttled per client
	// address; with none, the peer address counts.
	TrustedProxies []string
	// ClientMetadataAllowLoopback accepts client_id URLs on loopback hosts,
	// so that a client on this computer can serve its own Client ID Metadata
	// Document. Development only.
	ClientMetadataAllowLoopback bool
	// ClientMetadataCAFile is a PEM file of extra certificate authorities
	// trusted when fetching metadata documents, for a local test server.
	// Development only.
	ClientMetadataCAFile string
	// KnownClientsFile adds to, replaces or switches off the built-in
	// pinned client documents (clientmeta.LoadKnown); "" = the built-ins.
	KnownClientsFile string
	// HygieneInterval is how often the hygiene job runs; 0 = never.
	HygieneInterval time.Duration
	// ClientUnauthorizedTTL and ClientIdleTTL say when a self-registered
	// client counts as unused (package hygiene).
	ClientUnauthorizedTTL time.Duration
	ClientIdleTTL         time.Duration

	// readErr holds what went wrong while reading (a bad _FILE, MODE).
	readErr error
}

// FromEnv reads the configuration; call Validate before using it.
func FromEnv() Config { return FromLookup(os.Getenv) }

// FromLookup reads the configuration through getenv.
func FromLookup(getenv func(string) string) Config {
	src := envconfig.New(Vars, getenv)
	mode, modeErr := envconfig.ParseMode(src.String("MODE"))
	level, levelErr := envconfig.ParseLogLevel(src.String("LOG_LEVEL"))
	c := Config{
		Mode:            mode,
		LogLevel:        level,
		ListenAddr:      src.String("LISTEN_ADDR"),
		MetricsAddr:     src.String("METRICS_ADDR"),
		PublicURL:       src.String("PUBLIC_URL"),
		MCPResourceURL:  src.String("MCP_RESOURCE_URL"),
		HydraPublicURL:  src.String("HYDRA_PUBLIC_URL"),
		HydraAdminURL:   src.String("HYDRA_ADMIN_URL"),
		DatabaseURL:     src.String("DATABASE_URL"),
		TokenHookAPIKey: src.String("TOKEN_HOOK_API_KEY"),
		CookieSecret:    src.String("COOKIE_SECRET"),
		TrustedProxies:  src.List("TRUSTED_PROXIES"),

		ClientMetadataAllowLoopback: src.Bool("CLIENT_METADATA_ALLOW_LOOPBACK"),
		ClientMetadataCAFile:        src.String("CLIENT_METADATA_CA_FILE"),
		KnownClientsFile:            src.String("KNOWN_CLIENTS_FILE"),
	}
	c.HygieneInterval = src.Duration("HYGIENE_INTERVAL")
	c.ClientUnauthorizedTTL = src.Duration("CLIENT_UNAUTHORIZED_TTL")
	c.ClientIdleTTL = src.Duration("CLIENT_IDLE_TTL")
	c.readErr = errors.Join(modeErr, levelErr, src.Err())
	return c
}

// Validate reports every problem at once, in plain words.
func (c Config) Validate() error {
	errs := []error{c.readErr}
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("LISTEN_ADDR is empty"))
	}
	if err := checkOrigin("PUBLIC_URL", c.PublicURL); err != nil {
		errs = append(errs, err)
	} else if c.Mode != "" {
		errs = append(errs, envconfig.CheckPublicURL(c.Mode, "PUBLIC_URL", c.PublicURL))
	}
	if err := envconfig.CheckURL("MCP_RESOURCE_URL", c.MCPResourceURL); err != nil {
		errs = append(errs, err)
	} else if c.Mode != "" {
		errs = append(errs, envconfig.CheckPublicURL(c.Mode, "MCP_RESOURCE_URL", c.MCPResourceURL))
	}
	errs = append(errs,
		envconfig.CheckURL("HYDRA_PUBLIC_URL", c.HydraPublicURL),
		envconfig.CheckURL("HYDRA_ADMIN_URL", c.HydraAdminURL),
		envconfig.CheckDatabaseURL(c.DatabaseURL))
	if len(c.TokenHookAPIKey) < 16 {
		errs = append(errs, errors.New("TOKEN_HOOK_API_KEY is required and must be at least 16 characters"))
	}
	if len(c.CookieSecret) < 32 {
		errs = append(errs, errors.New("COOKIE_SECRET is required and must be at least 32 characters"))
	}
	if c.ClientMetadataAllowLoopback || c.ClientMetadataCAFile != "" {
		if u, err := url.Parse(c.PublicURL); c.Mode == envconfig.Production || (err == nil && !envconfig.IsLoopback(u.Hostname())) {
			errs = append(errs, errors.New("CLIENT_METADATA_ALLOW_LOOPBACK and CLIENT_METADATA_CA_FILE are for development: they need MODE=development and a PUBLIC_URL on localhost, 127.0.0.1 or [::1]"))
		}
	}
	if c.ClientMetadataCAFile != "" {
		if _, err := c.ClientMetadataRoots(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := c.KnownClients(); err != nil {
		errs = append(errs, err)
	}
	if c.HygieneInterval < 0 || (c.HygieneInterval > 0 && c.HygieneInterval < time.Minute) {
		errs = append(errs, fmt.Errorf("HYGIENE_INTERVAL %s: want 0 (off) or at least 1m", c.HygieneInterval))
	}
	if c.ClientUnauthorizedTTL < time.Hour {
		errs = append(errs, fmt.Errorf("CLIENT_UNAUTHORIZED_TTL %s: want at least 1h, so that a person has time to authorize a client it just registered", c.ClientUnauthorizedTTL))
	}
	if c.ClientIdleTTL < 24*time.Hour {
		errs = append(errs, fmt.Errorf("CLIENT_IDLE_TTL %s: want at least 24h", c.ClientIdleTTL))
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %q is not an IP address or CIDR range", p))
			}
		}
	}
	return errors.Join(errs...)
}

// ClientMetadataRoots returns the certificate authorities that verify
// metadata document servers: nil (the system's) unless ClientMetadataCAFile
// adds some.
func (c Config) ClientMetadataRoots() (*x509.CertPool, error) {
	if c.ClientMetadataCAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.ClientMetadataCAFile)
	if err != nil {
		return nil, fmt.Errorf("CLIENT_METADATA_CA_FILE: %w", err)
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CLIENT_METADATA_CA_FILE %s holds no PEM certificate", c.ClientMetadataCAFile)
	}
	return roots, nil
}

// KnownClients returns the pinned clients: the built-ins with
// KnownClientsFile applied.
func (c Config) KnownClients() (*clientmeta.Known, error) {
	return clientmeta.LoadKnown(c.KnownClientsFile)
}

// Common is what the service skeleton (ops/service) uses.
func (c Config) Common() service.Common {
	return service.Common{Mode: c.Mode, LogLevel: c.LogLevel, ListenAddr: c.ListenAddr, DatabaseURL: c.DatabaseURL}
}

// SecureCookies reports whether cookies must carry the Secure flag.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.PublicURL, "https://") }

func checkOrigin(name, raw string) error {
	if err := envconfig.CheckURL(name, raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must be an origin without path or trailing slash (it is the OAuth issuer), got %q", name, raw)
	}
	return nil
}

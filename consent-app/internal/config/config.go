// Package config reads the consent app's settings from the environment and
// validates them once at start-up.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"

	"github.com/mcp-oauth/consent-app/internal/authorize"
)

// Config is the consent app's configuration. Every field comes from the
// environment variable named in its comment.
type Config struct {
	// ListenAddr (LISTEN_ADDR, default localhost:3000) is where the HTTP server listens.
	ListenAddr string
	// PublicURL (PUBLIC_URL, default http://localhost:3000) is the auth origin
	// and Hydra's issuer: scheme and host, no path, no trailing slash.
	PublicURL string
	// MCPResourceURL (MCP_RESOURCE_URL, default http://localhost:8080/mcp) is
	// the canonical MCP server URL: the only audience ever granted.
	MCPResourceURL string
	// HydraPublicURL (HYDRA_PUBLIC_URL, default http://127.0.0.1:4444) is
	// Hydra's public listener, reached only through our reverse proxy.
	HydraPublicURL string
	// HydraAdminURL (HYDRA_ADMIN_URL, default http://127.0.0.1:4445).
	HydraAdminURL string
	// DatabaseURL (DATABASE_URL, required) is the app database.
	DatabaseURL string
	// TokenHookAPIKey (TOKEN_HOOK_API_KEY, required) is the key Hydra sends
	// in X-Token-Hook-Key when it calls our token hook.
	TokenHookAPIKey string
	// CookieSecret (COOKIE_SECRET, required, at least 32 characters) keys the
	// CSRF tokens.
	CookieSecret string
	// ClientMetadataAllowLoopback (CLIENT_METADATA_ALLOW_LOOPBACK=true,
	// default false; development only) accepts client_id URLs on loopback
	// hosts, so that a client on this computer can serve its own Client ID
	// Metadata Document. Refused unless PUBLIC_URL is itself on loopback.
	ClientMetadataAllowLoopback bool
	// ClientMetadataCAFile (CLIENT_METADATA_CA_FILE, default none;
	// development only) is a PEM file of extra certificate authorities
	// trusted when fetching metadata documents, for a local test server.
	// Refused unless PUBLIC_URL is on loopback.
	ClientMetadataCAFile string
	// TrustedProxies (TRUSTED_PROXIES, default none) are the IP addresses or
	// CIDR ranges of reverse proxies in front of the app, comma-separated.
	// Only their X-Forwarded-For is believed when sign-ins are throttled per
	// client address; with none, the peer address counts.
	TrustedProxies []string
}

// FromEnv reads the configuration; call Validate before using it.
func FromEnv() Config {
	return Config{
		ListenAddr:      env("LISTEN_ADDR", "localhost:3000"),
		PublicURL:       env("PUBLIC_URL", "http://localhost:3000"),
		MCPResourceURL:  env("MCP_RESOURCE_URL", "http://localhost:8080/mcp"),
		HydraPublicURL:  env("HYDRA_PUBLIC_URL", "http://127.0.0.1:4444"),
		HydraAdminURL:   env("HYDRA_ADMIN_URL", "http://127.0.0.1:4445"),
		DatabaseURL:     os.Getenv("DATABASE_URL"),
		TokenHookAPIKey: os.Getenv("TOKEN_HOOK_API_KEY"),
		CookieSecret:    os.Getenv("COOKIE_SECRET"),
		TrustedProxies:  list(os.Getenv("TRUSTED_PROXIES")),

		ClientMetadataAllowLoopback: os.Getenv("CLIENT_METADATA_ALLOW_LOOPBACK") == "true",
		ClientMetadataCAFile:        os.Getenv("CLIENT_METADATA_CA_FILE"),
	}
}

func list(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Validate reports every problem at once, in plain words.
func (c Config) Validate() error {
	var errs []error
	if c.ListenAddr == "" {
		errs = append(errs, errors.New("LISTEN_ADDR is empty"))
	}
	if err := checkOrigin("PUBLIC_URL", c.PublicURL); err != nil {
		errs = append(errs, err)
	}
	if err := checkURL("MCP_RESOURCE_URL", c.MCPResourceURL); err != nil {
		errs = append(errs, err)
	} else if u, _ := url.Parse(c.MCPResourceURL); u.Fragment != "" || u.RawQuery != "" {
		errs = append(errs, errors.New("MCP_RESOURCE_URL must not have a query or fragment"))
	}
	if err := checkURL("HYDRA_PUBLIC_URL", c.HydraPublicURL); err != nil {
		errs = append(errs, err)
	}
	if err := checkURL("HYDRA_ADMIN_URL", c.HydraAdminURL); err != nil {
		errs = append(errs, err)
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required"))
	}
	if len(c.TokenHookAPIKey) < 16 {
		errs = append(errs, errors.New("TOKEN_HOOK_API_KEY is required and must be at least 16 characters"))
	}
	if len(c.CookieSecret) < 32 {
		errs = append(errs, errors.New("COOKIE_SECRET is required and must be at least 32 characters"))
	}
	if c.ClientMetadataAllowLoopback || c.ClientMetadataCAFile != "" {
		if u, err := url.Parse(c.PublicURL); err == nil && !authorize.IsLoopback(u.Hostname()) {
			errs = append(errs, errors.New("CLIENT_METADATA_ALLOW_LOOPBACK and CLIENT_METADATA_CA_FILE are for development: they need a PUBLIC_URL on localhost, 127.0.0.1 or [::1]"))
		}
	}
	if c.ClientMetadataCAFile != "" {
		if _, err := c.ClientMetadataRoots(); err != nil {
			errs = append(errs, err)
		}
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

// SecureCookies reports whether cookies must carry the Secure flag.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.PublicURL, "https://") }

func checkURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s must be an absolute http(s) URL, got %q", name, raw)
	}
	return nil
}

func checkOrigin(name, raw string) error {
	if err := checkURL(name, raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw)
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%s must be an origin without path or trailing slash (it is the OAuth issuer), got %q", name, raw)
	}
	return nil
}

package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-oauth/ops/envconfig"
)

func valid() Config {
	return Config{
		Mode:            envconfig.Development,
		ListenAddr:      "localhost:3000",
		PublicURL:       "http://localhost:3000",
		MCPResourceURL:  "http://localhost:8080/mcp",
		HydraPublicURL:  "http://127.0.0.1:4444",
		HydraAdminURL:   "http://127.0.0.1:4445",
		DatabaseURL:     "postgres://localhost/app",
		TokenHookAPIKey: strings.Repeat("k", 16),
		CookieSecret:    strings.Repeat("s", 32),

		HygieneInterval:       time.Hour,
		ClientUnauthorizedTTL: 24 * time.Hour,
		ClientIdleTTL:         90 * 24 * time.Hour,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{"valid", func(*Config) {}, nil},
		{"production refuses plain http", func(c *Config) { c.Mode = envconfig.Production }, []string{"PUBLIC_URL is plain http", "MCP_RESOURCE_URL is plain http"}},
		{"production over https", func(c *Config) {
			c.Mode = envconfig.Production
			c.PublicURL = "https://auth.example.com"
			c.MCPResourceURL = "https://mcp.example.com/mcp"
		}, nil},
		{"development http only on loopback", func(c *Config) { c.PublicURL = "http://auth.example.com" }, []string{"PUBLIC_URL may use plain http only on localhost"}},
		{"production refuses development options", func(c *Config) {
			c.Mode = envconfig.Production
			c.PublicURL = "https://localhost:3000"
			c.MCPResourceURL = "https://localhost:8080/mcp"
			c.ClientMetadataAllowLoopback = true
		}, []string{"CLIENT_METADATA_ALLOW_LOOPBACK and CLIENT_METADATA_CA_FILE are for development"}},
		{"issuer with trailing slash", func(c *Config) { c.PublicURL = "http://localhost:3000/" }, []string{"PUBLIC_URL must be an origin"}},
		{"resource with fragment", func(c *Config) { c.MCPResourceURL = "http://localhost:8080/mcp#x" }, []string{"MCP_RESOURCE_URL must not have"}},
		{"development loopback on a loopback issuer", func(c *Config) { c.ClientMetadataAllowLoopback = true }, nil},
		{"development loopback on a public issuer", func(c *Config) {
			c.PublicURL = "https://auth.example.com"
			c.ClientMetadataAllowLoopback = true
		}, []string{"CLIENT_METADATA_ALLOW_LOOPBACK and CLIENT_METADATA_CA_FILE are for development"}},
		{"missing CA file", func(c *Config) { c.ClientMetadataCAFile = "/nonexistent/ca.pem" }, []string{"CLIENT_METADATA_CA_FILE"}},
		{"trusted proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"} }, nil},
		{"hygiene off", func(c *Config) { c.HygieneInterval = 0 }, nil},
		{"hygiene too often", func(c *Config) { c.HygieneInterval = time.Second }, []string{"HYGIENE_INTERVAL 1s"}},
		{"client ages too short", func(c *Config) {
			c.ClientUnauthorizedTTL = time.Minute
			c.ClientIdleTTL = time.Hour
		}, []string{"CLIENT_UNAUTHORIZED_TTL 1m0s", "CLIENT_IDLE_TTL 1h0m0s"}},
		{"bad trusted proxy", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"} }, []string{`TRUSTED_PROXIES: "proxy.internal"`}},
		{"bad database url", func(c *Config) { c.DatabaseURL = "postgres://a:secret@host:notaport/db" }, []string{"DATABASE_URL is not a valid"}},
		{"resource with user info", func(c *Config) { c.MCPResourceURL = "http://u:p@localhost:8080/mcp" }, []string{"MCP_RESOURCE_URL must not have user info"}},
		{"all problems at once", func(c *Config) {
			c.DatabaseURL = ""
			c.CookieSecret = "short"
			c.HydraAdminURL = "ftp://x"
		}, []string{"DATABASE_URL is required", "COOKIE_SECRET", "HYDRA_ADMIN_URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestFromLookup(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "cookie")
	if err := os.WriteFile(secret, []byte(strings.Repeat("c", 40)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"MODE":               "development",
		"DATABASE_URL":       "postgres://localhost/app",
		"TOKEN_HOOK_API_KEY": strings.Repeat("k", 16),
		"COOKIE_SECRET_FILE": secret,
	}
	c := FromLookup(func(k string) string { return env[k] })
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	if c.CookieSecret != strings.Repeat("c", 40) || c.ListenAddr != "localhost:3000" || c.MetricsAddr != "" {
		t.Errorf("config = %+v", c)
	}
	if c.HygieneInterval != time.Hour || c.ClientUnauthorizedTTL != 24*time.Hour || c.ClientIdleTTL != 90*24*time.Hour {
		t.Errorf("hygiene defaults %v %v %v", c.HygieneInterval, c.ClientUnauthorizedTTL, c.ClientIdleTTL)
	}
	if c.LogLevel != slog.LevelInfo {
		t.Errorf("default log level %v, want info", c.LogLevel)
	}
	env["LOG_LEVEL"] = "debug"
	if c := FromLookup(func(k string) string { return env[k] }); c.Validate() != nil || c.LogLevel != slog.LevelDebug {
		t.Errorf("LOG_LEVEL=debug: level %v, %v", c.LogLevel, c.Validate())
	}
	env["LOG_LEVEL"] = "verbose"
	if err := FromLookup(func(k string) string { return env[k] }).Validate(); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL must be") {
		t.Errorf("LOG_LEVEL=verbose: %v", err)
	}
	delete(env, "LOG_LEVEL")
	env["CLIENT_IDLE_TTL"] = "ninety days"
	if err := FromLookup(func(k string) string { return env[k] }).Validate(); err == nil || !strings.Contains(err.Error(), `CLIENT_IDLE_TTL "ninety days"`) {
		t.Errorf("unparsable duration: %v", err)
	}
	delete(env, "CLIENT_IDLE_TTL")

	// Unset MODE means production: the local defaults are plain http.
	delete(env, "MODE")
	if err := FromLookup(func(k string) string { return env[k] }).Validate(); err == nil || !strings.Contains(err.Error(), "production needs https") {
		t.Errorf("default mode: %v, want production's https requirement", err)
	}
	env["MODE"] = "staging"
	if err := FromLookup(func(k string) string { return env[k] }).Validate(); err == nil || !strings.Contains(err.Error(), "MODE must be") {
		t.Errorf("MODE=staging: %v", err)
	}
}

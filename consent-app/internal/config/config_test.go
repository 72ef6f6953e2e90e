package config

import (
	"strings"
	"testing"
)

func valid() Config {
	return Config{
		ListenAddr:      "localhost:3000",
		PublicURL:       "http://localhost:3000",
		MCPResourceURL:  "http://localhost:8080/mcp",
		HydraPublicURL:  "http://127.0.0.1:4444",
		HydraAdminURL:   "http://127.0.0.1:4445",
		DatabaseURL:     "postgres://localhost/app",
		TokenHookAPIKey: strings.Repeat("k", 16),
		CookieSecret:    strings.Repeat("s", 32),
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{"valid", func(*Config) {}, nil},
		{"issuer with trailing slash", func(c *Config) { c.PublicURL = "http://localhost:3000/" }, []string{"PUBLIC_URL must be an origin"}},
		{"resource with fragment", func(c *Config) { c.MCPResourceURL = "http://localhost:8080/mcp#x" }, []string{"MCP_RESOURCE_URL must not have"}},
		{"development loopback on a loopback issuer", func(c *Config) { c.ClientMetadataAllowLoopback = true }, nil},
		{"development loopback on a public issuer", func(c *Config) {
			c.PublicURL = "https://auth.example.com"
			c.ClientMetadataAllowLoopback = true
		}, []string{"CLIENT_METADATA_ALLOW_LOOPBACK and CLIENT_METADATA_CA_FILE are for development"}},
		{"missing CA file", func(c *Config) { c.ClientMetadataCAFile = "/nonexistent/ca.pem" }, []string{"CLIENT_METADATA_CA_FILE"}},
		{"trusted proxies", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"} }, nil},
		{"bad trusted proxy", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "proxy.internal"} }, []string{`TRUSTED_PROXIES: "proxy.internal"`}},
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

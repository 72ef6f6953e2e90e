package config

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// env looks variables up in m; MODE defaults to development, as a local run
// sets it, unless m says otherwise.
func env(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok || k != "MODE" {
			return v
		}
		return "development"
	}
}

func TestFromEnvDefaults(t *testing.T) {
	cfg := FromEnv(env(map[string]string{"DATABASE_URL": "postgres://app@localhost:5432/app"}))
	want := Config{
		Mode:          "development",
		ListenAddr:    "localhost:8080",
		ResourceURL:   "http://localhost:8080/mcp",
		AuthIssuer:    "http://localhost:3000",
		HydraAdminURL: "http://127.0.0.1:4445",
		DatabaseURL:   "postgres://app@localhost:5432/app",

		IntrospectionCacheTTL: 30 * time.Second,
		VerifyTimeout:         5 * time.Second,
		ConnectionCacheTTL:    5 * time.Minute,
		AuditRetention:        90 * 24 * time.Hour,
	}
	if cfg.readErr != nil {
		t.Fatal(cfg.readErr)
	}
	if cfg != want { // LogLevel's zero value is info, the default
		t.Errorf("FromEnv = %+v, want %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if got := cfg.IntrospectionURL(); got != "http://127.0.0.1:4445/admin/oauth2/introspect" {
		t.Errorf("IntrospectionURL = %q", got)
	}
}

func TestFromEnvKeepsResourceByteForByte(t *testing.T) {
	cfg := FromEnv(env(map[string]string{"MCP_RESOURCE_URL": "https://MCP.example.com:443/mcp/"}))
	if cfg.ResourceURL != "https://MCP.example.com:443/mcp/" {
		t.Errorf("ResourceURL = %q: must not be normalized", cfg.ResourceURL)
	}
}

func TestValidate(t *testing.T) {
	valid := map[string]string{"DATABASE_URL": "postgres://app@localhost:5432/app"}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings, one per expected problem
	}{
		{name: "valid https", env: map[string]string{
			"DATABASE_URL": "postgres://app@db/app", "MCP_RESOURCE_URL": "https://mcp.example.com/mcp",
			"AUTH_ISSUER": "https://auth.example.com", "HYDRA_ADMIN_URL": "http://hydra:4445", "LISTEN_ADDR": ":8080",
		}},
		{name: "valid loopback ip", env: map[string]string{"DATABASE_URL": "postgres://app@db/app", "MCP_RESOURCE_URL": "http://127.0.0.1:9999/mcp"}},
		{name: "missing database", env: map[string]string{}, wantErr: []string{"DATABASE_URL is required"}},
		{name: "production refuses plain http", env: with(valid, "MODE", "production"), wantErr: []string{"MCP_RESOURCE_URL", "production needs https", "AUTH_ISSUER"}},
		{name: "production by default", env: with(valid, "MODE", ""), wantErr: []string{"production needs https"}},
		{name: "unknown mode", env: with(valid, "MODE", "staging"), wantErr: []string{"MODE must be production or development"}},
		{name: "unknown log level", env: with(valid, "LOG_LEVEL", "verbose"), wantErr: []string{"LOG_LEVEL must be debug, info, warn or error"}},
		{name: "bad database url", env: map[string]string{"DATABASE_URL": "postgres://a:secret@host:notaport/db"}, wantErr: []string{"DATABASE_URL is not a valid"}},
		{name: "http resource off loopback", env: with(valid, "MCP_RESOURCE_URL", "http://mcp.example.com/mcp"), wantErr: []string{"MCP_RESOURCE_URL", "use https"}},
		{name: "resource without path", env: with(valid, "MCP_RESOURCE_URL", "http://localhost:8080"), wantErr: []string{"needs a path"}},
		{name: "resource at root", env: with(valid, "MCP_RESOURCE_URL", "http://localhost:8080/"), wantErr: []string{"needs a path"}},
		{name: "resource with query", env: with(valid, "MCP_RESOURCE_URL", "http://localhost:8080/mcp?x=1"), wantErr: []string{"query"}},
		{name: "resource with fragment", env: with(valid, "MCP_RESOURCE_URL", "http://localhost:8080/mcp#x"), wantErr: []string{"fragment"}},
		{name: "resource with odd path", env: with(valid, "MCP_RESOURCE_URL", "http://localhost:8080/m%20cp"), wantErr: []string{"may only use"}},
		{name: "resource with dot segment", env: with(valid, "MCP_RESOURCE_URL", "http://localhost:8080/a/../mcp"), wantErr: []string{"clean"}},
		{name: "cache off", env: with(valid, "INTROSPECTION_CACHE_TTL", "0s")},
		{name: "unreadable durations", env: with(with(valid, "INTROSPECTION_CACHE_TTL", "30"), "VERIFY_TIMEOUT", "soon"), wantErr: []string{"INTROSPECTION_CACHE_TTL \"30\"", "VERIFY_TIMEOUT \"soon\""}},
		{name: "cache too long", env: with(valid, "INTROSPECTION_CACHE_TTL", "2h"), wantErr: []string{"INTROSPECTION_CACHE_TTL 2h0m0s"}},
		{name: "no timeout", env: with(valid, "VERIFY_TIMEOUT", "0s"), wantErr: []string{"VERIFY_TIMEOUT 0s"}},
		{name: "connection cache off", env: with(valid, "CONNECTION_CACHE_TTL", "0s")},
		{name: "connection cache too long", env: with(valid, "CONNECTION_CACHE_TTL", "2h"), wantErr: []string{"CONNECTION_CACHE_TTL 2h0m0s"}},
		{name: "audit retention too short", env: with(valid, "AUDIT_RETENTION", "1m"), wantErr: []string{"AUDIT_RETENTION 1m0s"}},
		{name: "audit retention unreadable", env: with(valid, "AUDIT_RETENTION", "90d"), wantErr: []string{`AUDIT_RETENTION "90d"`}},
		{name: "resource on reserved path", env: with(valid, "MCP_RESOURCE_URL", "http://localhost:8080/healthz"), wantErr: []string{"reserved"}},
		{name: "relative resource", env: with(valid, "MCP_RESOURCE_URL", "/mcp"), wantErr: []string{"absolute"}},
		{name: "issuer with trailing slash", env: with(valid, "AUTH_ISSUER", "http://localhost:3000/"), wantErr: []string{"trailing slash"}},
		{name: "bad listen addr", env: with(valid, "LISTEN_ADDR", "8080"), wantErr: []string{"LISTEN_ADDR"}},
		{name: "bad hydra url", env: with(valid, "HYDRA_ADMIN_URL", "127.0.0.1:4445"), wantErr: []string{"HYDRA_ADMIN_URL"}},
		{
			name: "every problem at once",
			env: map[string]string{
				"LISTEN_ADDR": "nope", "MCP_RESOURCE_URL": "ftp://x/mcp", "AUTH_ISSUER": "http://auth.example.com",
				"HYDRA_ADMIN_URL": "hydra", "DATABASE_URL": "",
			},
			wantErr: []string{"LISTEN_ADDR", "MCP_RESOURCE_URL", "AUTH_ISSUER", "HYDRA_ADMIN_URL", "DATABASE_URL"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := FromEnv(env(tt.env)).Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors mentioning %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to mention %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Validate() leaks the database password: %q", err)
			}
		})
	}
}

func with(base map[string]string, key, value string) map[string]string {
	m := map[string]string{key: value}
	for k, v := range base {
		if _, set := m[k]; !set {
			m[k] = v
		}
	}
	return m
}

func TestFromEnvLogLevel(t *testing.T) {
	cfg := FromEnv(env(map[string]string{"DATABASE_URL": "postgres://app@localhost:5432/app", "LOG_LEVEL": "debug"}))
	if err := cfg.Validate(); err != nil || cfg.LogLevel != slog.LevelDebug {
		t.Errorf("LOG_LEVEL=debug: level %v, %v", cfg.LogLevel, err)
	}
}

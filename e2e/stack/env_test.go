package stack

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("malformed env entry %q", kv)
		}
		if _, dup := m[k]; dup {
			t.Fatalf("env sets %s twice", k)
		}
		m[k] = v
	}
	return m
}

var testSecrets = Secrets{System: "system-secret", TokenHookAPIKey: "hook-key", CookieSecret: "cookie-secret"}

func TestChildEnvironments(t *testing.T) {
	t.Setenv("DSN", "postgres://leak")          // must not reach Hydra
	t.Setenv("DATABASE_URL", "postgres://leak") // nor the services
	ep := endpoints{host: "localhost", ports: DefaultPorts()}

	tests := []struct {
		name string
		env  []string
		want map[string]string
	}{
		{
			name: "hydra",
			env:  hydraEnv(ep, "postgres://h/hydra", testSecrets),
			want: map[string]string{
				"DSN":                                 "postgres://h/hydra",
				"URLS_SELF_ISSUER":                    "http://localhost:3000",
				"URLS_SELF_PUBLIC":                    "http://localhost:3000/",
				"URLS_LOGIN":                          "http://localhost:3000/login",
				"URLS_CONSENT":                        "http://localhost:3000/consent",
				"URLS_LOGOUT":                         "http://localhost:3000/logout",
				"URLS_ERROR":                          "http://localhost:3000/error",
				"URLS_POST_LOGOUT_REDIRECT":           "http://localhost:3000/logged-out",
				"SECRETS_SYSTEM":                      "system-secret",
				"SERVE_PUBLIC_HOST":                   "127.0.0.1",
				"SERVE_PUBLIC_PORT":                   "4444",
				"SERVE_ADMIN_HOST":                    "127.0.0.1",
				"SERVE_ADMIN_PORT":                    "4445",
				"OAUTH2_TOKEN_HOOK_URL":               "http://127.0.0.1:3000/internal/token-hook",
				"OAUTH2_TOKEN_HOOK_AUTH_CONFIG_VALUE": "hook-key",
				"WEBFINGER_OIDC_DISCOVERY_CLIENT_REGISTRATION_URL": "http://localhost:3000/oauth2/register",
			},
		},
		{
			name: "consent-app",
			env:  consentAppEnv(ep, "postgres://h/app", testSecrets),
			want: map[string]string{
				"MODE":               "development",
				"LISTEN_ADDR":        "127.0.0.1:3000",
				"METRICS_ADDR":       "127.0.0.1:9100",
				"PUBLIC_URL":         "http://localhost:3000",
				"MCP_RESOURCE_URL":   "http://localhost:8080/mcp",
				"HYDRA_PUBLIC_URL":   "http://127.0.0.1:4444",
				"HYDRA_ADMIN_URL":    "http://127.0.0.1:4445",
				"DATABASE_URL":       "postgres://h/app",
				"TOKEN_HOOK_API_KEY": "hook-key",
				"COOKIE_SECRET":      "cookie-secret",
			},
		},
		{
			name: "mcp-server",
			env:  mcpServerEnv(ep, "postgres://h/app"),
			want: map[string]string{
				"MODE":             "development",
				"LISTEN_ADDR":      "127.0.0.1:8080",
				"METRICS_ADDR":     "127.0.0.1:9101",
				"MCP_RESOURCE_URL": "http://localhost:8080/mcp",
				"AUTH_ISSUER":      "http://localhost:3000",
				"HYDRA_ADMIN_URL":  "http://127.0.0.1:4445",
				"DATABASE_URL":     "postgres://h/app",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := envMap(t, tt.env)
			for k, want := range tt.want {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			if got["PATH"] == "" {
				t.Error("PATH not passed on")
			}
			if _, ok := got["OAUTH2_TOKEN_HOOK"]; ok {
				t.Error("OAUTH2_TOKEN_HOOK set: it stops Hydra from starting")
			}
			// Every other variable would come from the caller's environment.
			for k := range got {
				if _, ok := tt.want[k]; !ok && k != "PATH" && k != "HOME" && k != "TMPDIR" && k != "TZ" {
					t.Errorf("unexpected variable %s", k)
				}
			}
		})
	}
}

func TestEndpointsHost(t *testing.T) {
	ep := endpoints{host: "127.0.0.1", ports: Ports{ConsentApp: 41000, MCPServer: 41001}}
	if got, want := ep.issuer(), "http://127.0.0.1:41000"; got != want {
		t.Errorf("issuer = %q, want %q", got, want)
	}
	if got, want := ep.mcpURL(), "http://127.0.0.1:41001/mcp"; got != want {
		t.Errorf("mcpURL = %q, want %q", got, want)
	}
}

func TestDatabaseURL(t *testing.T) {
	tests := []struct {
		server, name, want string
		wantErr            bool
	}{
		{"postgres://u:p%40ss@127.0.0.1:5432/postgres?sslmode=disable", "hydra", "postgres://u:p%40ss@127.0.0.1:5432/hydra?sslmode=disable", false},
		{"postgresql://u@db.example:6543", "mcp_app", "postgresql://u@db.example:6543/mcp_app", false},
		{"mysql://u@h/db", "x", "", true},
		{"postgres://u:p@h:bad port/db", "x", "", true},
	}
	for _, tt := range tests {
		got, err := databaseURL(tt.server, tt.name)
		if (err != nil) != tt.wantErr {
			t.Errorf("databaseURL(%q) error = %v, want error %v", tt.server, err, tt.wantErr)
			continue
		}
		if err != nil && strings.Contains(err.Error(), "u:p") {
			t.Errorf("error %q quotes the credentials", err)
		}
		if got != tt.want {
			t.Errorf("databaseURL(%q, %q) = %q, want %q", tt.server, tt.name, got, tt.want)
		}
	}
}

func TestDatabaseName(t *testing.T) {
	for url, want := range map[string]string{
		"postgres://u@h/mcp_app?sslmode=disable": "mcp_app",
		"postgres://u@h":                         "",
		"postgres://u@h/":                        "",
	} {
		if got := DatabaseName(url); got != want {
			t.Errorf("DatabaseName(%q) = %q, want %q", url, got, want)
		}
	}
}

func TestLoadSecrets(t *testing.T) {
	fresh, err := loadSecrets("")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := loadSecrets("")
	if fresh == again {
		t.Error("random secrets repeat between starts")
	}
	if len(fresh.System) < 32 || len(fresh.CookieSecret) < 32 || len(fresh.TokenHookAPIKey) < 32 {
		t.Errorf("secrets shorter than 32 characters")
	}

	path := filepath.Join(t.TempDir(), "sub", "secrets.json")
	first, err := loadSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := loadSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("kept secrets changed between runs")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("secrets file mode %v, want 0600", info.Mode().Perm())
	}
}

func TestFindRepoRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "e2e", "stack")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := FindRepoRoot(deep); err == nil {
		t.Error("found a repo root without go.work")
	}
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte("go 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := FindRepoRoot(deep)
	if err != nil {
		t.Fatal(err)
	}
	if got != root {
		t.Errorf("FindRepoRoot = %q, want %q", got, root)
	}
}

func TestChoosePorts(t *testing.T) {
	s := &Stack{}
	if err := s.choosePorts(); err != nil {
		t.Fatal(err)
	}
	p := s.Ports
	seen := map[int]bool{}
	for _, port := range []int{p.ConsentApp, p.HydraPublic, p.HydraAdmin, p.MCPServer} {
		if port == 0 || seen[port] {
			t.Errorf("ports %+v: zero or repeated", p)
		}
		seen[port] = true
	}

	s = &Stack{opts: Options{Ports: Ports{ConsentApp: p.ConsentApp}}}
	if err := s.choosePorts(); err != nil {
		t.Fatalf("free fixed port refused: %v", err)
	}
	if s.Ports.ConsentApp != p.ConsentApp {
		t.Errorf("fixed port %d replaced by %d", p.ConsentApp, s.Ports.ConsentApp)
	}

	// A fixed port that is taken fails before anything starts.
	l, err := net.Listen("tcp", listenAddr(p.MCPServer))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s = &Stack{opts: Options{Ports: Ports{MCPServer: p.MCPServer}}}
	if err := s.choosePorts(); err == nil {
		t.Errorf("busy port %d accepted", p.MCPServer)
	}
}

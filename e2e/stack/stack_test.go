package stack

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestStartStop starts the real stack (as scripts/test does: on the server
// in DATABASE_URL, or a private cluster), checks that its parts were wired
// together, and that Stop leaves nothing behind.
func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack")
	}
	ctx := t.Context()
	s, err := Start(ctx, Options{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		Host:        "127.0.0.1",
		SeedDemo:    true,
		LogDir:      t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	// Hydra got this stack's issuer and registration front, not hydra.yml's.
	var discovery struct {
		Issuer               string `json:"issuer"`
		RegistrationEndpoint string `json:"registration_endpoint"`
	}
	getJSON(t, s.HydraPublicURL+"/.well-known/openid-configuration", &discovery)
	if discovery.Issuer != s.IssuerURL {
		t.Errorf("Hydra issuer = %q, want %q", discovery.Issuer, s.IssuerURL)
	}
	if want := s.IssuerURL + "/oauth2/register"; discovery.RegistrationEndpoint != want {
		t.Errorf("registration_endpoint = %q, want %q", discovery.RegistrationEndpoint, want)
	}
	for _, url := range []string{s.IssuerURL + "/healthz", strings.TrimSuffix(s.MCPURL, "/mcp") + "/healthz"} {
		if resp, err := http.Get(url); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %v %v", url, resp, err)
		}
	}

	// Both services migrated and seeded the app database (contracts: 3 demo
	// users; invoices 4 for ACME and 3 for GLOBEX).
	conn, err := pgx.Connect(ctx, s.AppDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]int{
		"SELECT count(*) FROM users":    3,
		"SELECT count(*) FROM invoices": 24, // 12 per demo team
	} {
		var n int
		if err := conn.QueryRow(ctx, query).Scan(&n); err != nil {
			t.Errorf("%s: %v", query, err)
		} else if n != want {
			t.Errorf("%s = %d, want %d", query, n, want)
		}
	}
	conn.Close(ctx)

	s.Stop()
	for _, port := range []int{s.Ports.ConsentApp, s.Ports.HydraPublic, s.Ports.HydraAdmin, s.Ports.MCPServer} {
		if c, err := net.DialTimeout("tcp", listenAddr(port), time.Second); err == nil {
			c.Close()
			t.Errorf("port %d still answers after Stop", port)
		}
	}
	if url := os.Getenv("DATABASE_URL"); url != "" {
		assertDropped(t, url, DatabaseName(s.AppDatabaseURL), DatabaseName(s.HydraDatabaseURL))
	}
}

func TestStartRefusesBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	started := time.Now()
	_, err = Start(t.Context(), Options{Ports: Ports{ConsentApp: port}, LogDir: t.TempDir()})
	if err == nil {
		t.Fatal("Start succeeded on a busy port")
	}
	if time.Since(started) > 5*time.Second {
		t.Errorf("busy port found only after %s: it should fail before building anything", time.Since(started))
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func assertDropped(t *testing.T, serverURL string, names ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := adminConn(ctx, serverURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, name := range names {
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("fresh database %s not dropped by Stop", name)
		}
	}
}

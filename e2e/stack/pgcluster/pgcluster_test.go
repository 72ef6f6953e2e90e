package pgcluster

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// These tests start real servers with the machine's initdb and postgres.

func TestThrowawayCluster(t *testing.T) {
	ctx := t.Context()
	root := openDir(t)
	// A folder left by a crashed run: its lock is free, so it must go.
	stale := filepath.Join(root, "pg-stale")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, lockFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	c, err := Start(ctx, Options{TempRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale folder not swept: %v", err)
	}

	mustExec(t, c.URL(), "CREATE DATABASE scratch")
	// Restart: a new server process, the same port and data.
	before := c.server.Pid()
	if err := c.Restart(ctx); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if c.server.Pid() == before {
		t.Error("Restart kept the same server process")
	}
	var n int
	if err := connect(t, c.URL()).QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = 'scratch'").Scan(&n); err != nil || n != 1 {
		t.Errorf("after Restart: %d scratch databases (%v), want 1", n, err)
	}
	pid := c.server.Pid()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("postgres (pid %d) still running after Stop", pid)
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("throwaway folder %s still there after Stop: %v", c.Dir(), err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestKeptClusterIsReused(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(openDir(t), "pg")
	c, err := Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c.URL(), "CREATE DATABASE kept")
	if _, err := Start(ctx, Options{Dir: dir, StartTimeout: 10 * time.Second}); err == nil {
		t.Error("a second cluster started on a folder in use")
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	c, err = Start(ctx, Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	var n int
	conn := connect(t, c.URL())
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = 'kept'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("database created in the first run is gone after a restart")
	}
}

// openDir returns a temporary folder that the server user can enter when the
// tests run as root (t.TempDir is closed to other users).
func openDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, url, sql string) {
	t.Helper()
	if _, err := connect(t, url).Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

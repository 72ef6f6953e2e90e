// Package pgcluster starts a private PostgreSQL server (initdb + postgres) on a
// free loopback port, so that the run command and the tests never depend on a
// server that happens to run on the machine.
//
// PostgreSQL refuses to run as root, and CI runs as root: then initdb and
// postgres run as the unprivileged user "postgres", which owns the cluster
// folder. The server is started directly (not through pg_ctl) as a child with
// a parent-death signal, so a crashed parent cannot leave it running.
package pgcluster

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/e2e/internal/freeport"
	"github.com/mcp-oauth/e2e/internal/proc"
)

// Options configures a cluster. The zero value starts a throwaway cluster in
// a fresh folder under the system temp folder, on a free port.
type Options struct {
	// Dir is the cluster folder (data, socket, password, server log).
	// "" = a fresh throwaway folder under TempRoot, deleted by Stop, with
	// durability switched off for speed. A non-empty Dir is kept: it is
	// initialised on first use and reused on later starts.
	Dir string
	// TempRoot holds throwaway folders; "" = <os.TempDir()>/mcp-oauth-pg, also
	// used when the server user cannot reach TempRoot. Folders left there by
	// a crashed run are removed when the next throwaway cluster starts.
	TempRoot string
	// Port to listen on at 127.0.0.1; 0 = a free port.
	Port int
	// BinDir holds initdb and postgres; "" = the directory of initdb found on
	// PATH, else the newest /usr/lib/postgresql/<version>/bin.
	BinDir string
	// StartTimeout bounds initdb plus start-up; 0 = 2 minutes.
	StartTimeout time.Duration
	// Logger receives progress messages; nil = slog.Default().
	Logger *slog.Logger
}

// Cluster is a running private server.
type Cluster struct {
	dir       string
	port      int
	url       string
	throwaway bool
	spec      proc.Spec
	server    *proc.Process // guarded by mu once started
	mu        sync.Mutex
	lock      *os.File
	stopOnce  sync.Once
	stopErr   error
}

const (
	superuser    = "postgres"
	passwordFile = "superuser-password"
	lockFile     = ".lock"
	serverLog    = "postgres.log"
	// maxSocketPath is the size of sun_path minus the terminating NUL.
	maxSocketPath = 107
)

// Start initialises (when needed) and starts a cluster, and waits until it
// accepts connections.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	started := time.Now()

	binDir, err := findBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}

	c := &Cluster{throwaway: opts.Dir == ""}
	if c.throwaway {
		c.dir, c.lock, err = newThrowawayDir(opts.TempRoot, cred, logger)
	} else {
		c.dir, c.lock, err = openKeptDir(opts.Dir, cred)
	}
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	password, err := c.password(cred)
	if err != nil {
		return nil, err
	}
	if err := c.initdb(ctx, binDir, cred); err != nil {
		return nil, err
	}

	c.port = opts.Port
	if c.port == 0 {
		ports, err := freeport.Pick(1)
		if err != nil {
			return nil, err
		}
		c.port = ports[0]
	}
	c.url = (&url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, password),
		Host:     "127.0.0.1:" + strconv.Itoa(c.port),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}).String()

	c.spec = proc.Spec{
		Name:       "postgres",
		Path:       filepath.Join(binDir, "postgres"),
		Args:       c.serverArgs(),
		Env:        serverEnv(),
		Dir:        c.dir,
		LogPath:    filepath.Join(c.dir, serverLog),
		Credential: cred,
		// Fast shutdown: ends sessions, checkpoints, exits.
		DeathSignal: syscall.SIGINT,
	}
	if c.server, err = proc.Start(c.spec); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	logger.Info("postgres: private cluster ready", "dir", c.dir, "port", c.port,
		"throwaway", c.throwaway, "took", time.Since(started).Round(time.Millisecond))
	return c, nil
}

// URL returns the superuser URL of the "postgres" database. It carries the
// password: do not log it.
func (c *Cluster) URL() string { return c.url }

// Dir returns the cluster folder.
func (c *Cluster) Dir() string { return c.dir }

// Restart shuts the server down (fast shutdown: every session ends) and
// starts it again on the same port with the same data, as a restart or
// failover of a real database would, and waits until it accepts connections.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.server.Stop(syscall.SIGINT, 30*time.Second); err != nil {
		return err
	}
	spec := c.spec
	spec.LogPath = filepath.Join(c.dir, "postgres.restarted.log")
	server, err := proc.Start(spec)
	if err != nil {
		return err
	}
	c.server = server
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return c.waitReady(ctx)
}

// Stop shuts the server down (fast shutdown, then kill after 30s) and, for a
// throwaway cluster, deletes its folder. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		c.mu.Lock()
		server := c.server
		c.mu.Unlock()
		if server != nil {
			errs = append(errs, server.Stop(syscall.SIGINT, 30*time.Second))
		}
		if c.throwaway && c.dir != "" {
			errs = append(errs, os.RemoveAll(c.dir))
		}
		if c.lock != nil {
			// Closing releases the flock; for a throwaway folder only after it
			// is gone, so no sweeper deletes it under a running server.
			errs = append(errs, c.lock.Close())
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) serverArgs() []string {
	socketDir := c.dir
	if len(filepath.Join(socketDir, ".s.PGSQL.65535")) > maxSocketPath {
		socketDir = "" // too long for a unix socket: TCP only
	}
	args := []string{
		"-D", c.dataDir(),
		"-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + socketDir,
		// Parallel test packages each run a stack of three pooled services.
		"-c", "max_connections=300",
	}
	if c.throwaway {
		// Data that is deleted on Stop needs no crash safety; this makes
		// CREATE DATABASE and migrations several times faster.
		args = append(args,
			"-c", "fsync=off",
			"-c", "synchronous_commit=off",
			"-c", "full_page_writes=off")
	}
	return args
}

// password returns the superuser password, creating it on first use. It is
// kept in the cluster folder so a kept cluster can be reused.
func (c *Cluster) password(cred *syscall.Credential) (string, error) {
	path := filepath.Join(c.dir, passwordFile)
	data, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(data)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return "", fmt.Errorf("cluster %s has data but no %s: delete the folder to start afresh", c.dir, passwordFile)
	}
	password := rand.Text()
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return "", err
	}
	if cred != nil {
		// initdb (running as the server user) reads it.
		if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			return "", err
		}
	}
	return password, nil
}

func (c *Cluster) initdb(ctx context.Context, binDir string, cred *syscall.Credential) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return nil // initialised by an earlier run
	}
	args := []string{
		"-D", c.dataDir(),
		"-U", superuser,
		"--auth=scram-sha-256",
		"--pwfile=" + filepath.Join(c.dir, passwordFile),
		"--encoding=UTF8",
		// C locale: fast, and independent of the locales a machine has.
		"--locale=C",
	}
	if c.throwaway {
		args = append(args, "--no-sync")
	}
	return proc.Run(ctx, proc.Spec{
		Name:       "initdb",
		Path:       filepath.Join(binDir, "initdb"),
		Args:       args,
		Env:        serverEnv(),
		Dir:        c.dir,
		LogPath:    filepath.Join(c.dir, "initdb.log"),
		Credential: cred,
	})
}

func (c *Cluster) waitReady(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attempt, c.url)
		if err == nil {
			err = conn.Ping(attempt)
			conn.Close(attempt)
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-c.server.Done():
			return c.server.Failure()
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w (last error: %v); last lines of %s:\n%s",
				ctx.Err(), err, c.server.LogPath(), proc.Tail(c.server.LogPath(), 30))
		case <-tick.C:
		}
	}
}

// serverEnv is a minimal environment: PG* variables of the caller (PGDATA,
// PGPORT, ...) must not redirect initdb or the server.
func serverEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
}

// serverCredential returns the user to run PostgreSQL as: nil (the current
// user) unless running as root, which initdb and postgres refuse.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(superuser)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged user %q (created by Debian's postgresql package): %w", superuser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// findBinDir locates initdb and postgres. Debian keeps them in
// /usr/lib/postgresql/<version>/bin, off PATH; a PATH entry may be a symlink
// into that folder, so it is resolved to find postgres beside initdb.
func findBinDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "postgres")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(matches, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, m := range matches {
		if _, err := os.Stat(filepath.Join(filepath.Dir(m), "postgres")); err == nil {
			return filepath.Dir(m), nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: install Debian's postgresql package, or set DATABASE_URL")
}

// versionOf returns the major version in /usr/lib/postgresql/<version>/bin/initdb.
func versionOf(initdb string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return v
}

// newThrowawayDir creates and locks a fresh folder under root, after removing
// folders of earlier runs whose lock is free (their owner died). When the
// server user cannot reach root (a checkout under a closed home folder), it
// falls back to a folder under os.TempDir().
func newThrowawayDir(root string, cred *syscall.Credential, logger *slog.Logger) (string, *os.File, error) {
	fallback := filepath.Join(os.TempDir(), "mcp-oauth-pg")
	if root == "" {
		root = fallback
	}
	dir, lock, err := newLockedDir(root, cred, logger)
	if errors.Is(err, errUnreachable) && root != fallback {
		logger.Info("postgres: cluster folder not reachable by the server user; using the temp folder", "tried", root)
		dir, lock, err = newLockedDir(fallback, cred, logger)
	}
	return dir, lock, err
}

func newLockedDir(root string, cred *syscall.Credential, logger *slog.Logger) (string, *os.File, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", nil, err
	}
	sweep(root, logger)
	dir, err := os.MkdirTemp(root, "pg-")
	if err != nil {
		return "", nil, err
	}
	lock, err := lockPath(filepath.Join(dir, lockFile), true)
	if err == nil {
		err = handOver(dir, cred)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, lock, nil
}

// openKeptDir creates dir when needed and locks it, so two launchers cannot
// share one data folder.
func openKeptDir(dir string, cred *syscall.Credential) (string, *os.File, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	lock, err := lockPath(filepath.Join(dir, lockFile), true)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return "", nil, fmt.Errorf("cluster folder %s is in use by another process", dir)
	}
	if err != nil {
		return "", nil, err
	}
	if err := handOver(dir, cred); err != nil {
		lock.Close()
		return "", nil, err
	}
	return dir, lock, nil
}

var errUnreachable = errors.New("PostgreSQL cannot use its cluster folder")

// handOver gives the cluster folder to the server user (when running as
// root) and checks that this user can actually reach it: a parent folder
// closed to other users would otherwise fail deep inside initdb.
func handOver(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	err := filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if filepath.Base(path) == lockFile {
			return nil // ours, not the server's
		}
		return os.Lchown(path, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		return err
	}
	test, err := exec.LookPath("test")
	if err != nil {
		return err
	}
	cmd := exec.Command(test, "-w", dir, "-a", "-x", dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: user %s cannot write %s (is a parent folder closed to other users?)", errUnreachable, superuser, dir)
	}
	return nil
}

// lockPath opens (optionally creating) a lock file and takes an exclusive
// flock without waiting. The lock lasts as long as the returned file is open,
// and dies with the process: that is how a sweep tells a crashed run's folder.
// The descriptor is close-on-exec, so children never hold the lock.
func lockPath(path string, create bool) (*os.File, error) {
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sweep removes throwaway folders whose owner is gone. A folder without a lock
// file may be one that another process is creating right now: it is left
// alone unless it is old.
func sweep(root string, logger *slog.Logger) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "pg-") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		lock, err := lockPath(filepath.Join(dir, lockFile), false)
		switch {
		case err == nil:
			os.RemoveAll(dir)
			lock.Close()
			logger.Info("postgres: removed a cluster folder left by a crashed run", "dir", dir)
		case errors.Is(err, os.ErrNotExist):
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.RemoveAll(dir)
			}
		}
	}
}

// Package stack starts the whole local stack — PostgreSQL, Hydra, the consent
// app and the MCP server — and stops it again. It is the one place that knows
// how: the run command (e2e/cmd/stack) and the whole-stack tests both use it.
//
// Every child runs in its own process group with a parent-death signal, so a
// crashed or killed caller leaves no server behind.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mcp-oauth/e2e/internal/freeport"
	"github.com/mcp-oauth/e2e/internal/proc"
	"github.com/mcp-oauth/e2e/stack/pgcluster"
	"github.com/mcp-oauth/ops/health"
)

// Options configures a stack. The zero value starts a throwaway stack for a
// test: a private PostgreSQL cluster, fresh databases and free ports, all
// removed again by Stop.
type Options struct {
	// RepoRoot is the repository checkout; "" = found by walking up from the
	// working directory to the folder holding go.work.
	RepoRoot string
	// DatabaseURL is a PostgreSQL server to use, as the URL of any database
	// on it whose user may create databases; "" = start a private cluster.
	DatabaseURL string
	// PostgresDir is the private cluster's folder, kept between runs; "" = a
	// throwaway cluster under <RepoRoot>/.data/tmp, deleted by Stop. Unused
	// when DatabaseURL is set.
	PostgresDir string
	// AppDB and HydraDB name the app's and Hydra's databases. "" = a fresh
	// random name, created by Start and dropped by Stop. A given name is
	// created when missing and always kept.
	AppDB, HydraDB string
	// Ports to listen on (all on 127.0.0.1); a zero field = a free port.
	Ports Ports
	// Host names the stack in its public URLs (issuer, MCP resource); "" =
	// "localhost". The two spellings are different origins to clients, so a
	// test must use the URLs of Stack rather than build its own.
	Host string
	// LogDir receives one log file per child; "" = a fresh temporary folder.
	// It is kept after Stop so that a failure can be read.
	LogDir string
	// LogLevel is the consent app's and MCP servers' LOG_LEVEL; "" = their
	// default (info). Hydra logs at hydra/hydra.yml's level whatever this
	// says: below warn it writes authorization codes.
	LogLevel string
	// SeedDemo loads the demo users, teams and invoices (docs/design.md, "Demo data").
	SeedDemo bool
	// MCPReplicas is how many MCP servers to run against the one database,
	// as replicas behind a load balancer would; 0 = 1. All serve the same
	// canonical MCP URL (MCPURL, the first one's address); the others listen
	// on ports of their own (MCPReplicaURLs), which accept the loopback Host
	// a test sends them.
	MCPReplicas int
	// PublicURL and MCPResourceURL replace the public URLs derived from
	// Host and Ports ("" = derived), so that a local stack can sit behind an
	// HTTPS tunnel that forwards to its ports; Stack's URLs are then these.
	PublicURL, MCPResourceURL string
	// ClientMetadataCAFile, when set, puts the consent app in client
	// metadata development mode: it accepts client_id URLs on loopback hosts
	// and trusts the CAs in this PEM file when fetching their documents, so
	// a test can serve Client ID Metadata Documents from a local TLS server.
	ClientMetadataCAFile string
	// ClientMetadataAllowLoopback accepts client_id URLs on loopback hosts
	// without a CA file (a client serving its document over plain http on
	// this computer); implied by ClientMetadataCAFile.
	ClientMetadataAllowLoopback bool
	// KnownClientsFile is the consent app's KNOWN_CLIENTS_FILE; "" = the
	// built-in pinned clients only.
	KnownClientsFile string
	// SecretsFile keeps the secrets between runs (created on first use,
	// mode 0600); "" = random secrets for this start only. Kept databases
	// need it: Hydra cannot decrypt its keys under a new SECRETS_SYSTEM.
	SecretsFile string
	// ReadyTimeout bounds the start-up of each server; 0 = 60s.
	ReadyTimeout time.Duration
	// StopTimeout is how long a child gets after SIGTERM before it is
	// killed; 0 = 10s.
	StopTimeout time.Duration
	// Logger receives progress messages; nil = slog.Default().
	Logger *slog.Logger
}

// Stack is a running stack. Its URLs are the ones to use in tests.
type Stack struct {
	IssuerURL string // the consent app's public origin: the OAuth issuer (no trailing slash)
	MCPURL    string // the canonical MCP resource URL
	// MCPReplicaURLs are the MCP endpoints of the replicas by their own
	// addresses, the first replica first (see Options.MCPReplicas).
	MCPReplicaURLs []string
	HydraPublicURL string // Hydra's public API (normally reached through the issuer's proxy)
	HydraAdminURL  string // Hydra's admin API
	// AppDatabaseURL and HydraDatabaseURL carry credentials: never log them.
	AppDatabaseURL   string
	HydraDatabaseURL string
	LogDir           string
	Ports            Ports   // the ports in use
	Secrets          Secrets // the secrets in use (e.g. to call the token hook in a test)

	opts     Options
	logger   *slog.Logger
	cluster  *pgcluster.Cluster
	serverDB string          // URL used to create and drop databases
	freshDBs []string        // databases to drop on Stop
	servers  []*proc.Process // in start order; guarded by mu
	bins     binaries
	exited   chan error
	stopping atomic.Bool
	stopOnce sync.Once

	// For RunConsentApp.
	consentApp string
	envApp     []string

	// For StopServer and StartServer (faults.go); guarded by mu.
	mu        sync.Mutex
	specs     map[string]proc.Spec     // how each server was started, by name
	readyURLs map[string]string        // answers 200 when the server is ready
	down      map[string]*proc.Process // stopped and not started again
	quiet     map[*proc.Process]bool   // stopped on purpose, not to be reported
	restarts  map[string]int
}

// Start builds what is missing, prepares the databases, starts every server
// and waits until all are ready. ctx bounds the start only; the stack runs
// until Stop. On error, everything started so far is stopped again.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	started := time.Now()
	s := &Stack{opts: opts, exited: make(chan error, 1), specs: map[string]proc.Spec{}, readyURLs: map[string]string{},
		down: map[string]*proc.Process{}, quiet: map[*proc.Process]bool{}, restarts: map[string]int{}}
	if err := s.applyDefaults(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := s.choosePorts(); err != nil {
		return nil, err
	}
	ep := s.endpoints()
	s.IssuerURL, s.MCPURL = ep.issuer(), ep.mcpURL()
	s.HydraPublicURL, s.HydraAdminURL = ep.hydraPublic(), ep.hydraAdmin()

	// Building and starting PostgreSQL each take seconds; do them at once.
	var bins binaries
	err = parallel(
		func() (err error) { bins, err = build(ctx, s.opts.RepoRoot, s.LogDir); return err },
		func() error { return s.prepareDatabases(ctx) },
	)
	if err != nil {
		return nil, err
	}
	s.bins = bins

	envHydra := hydraEnv(ep, s.HydraDatabaseURL, s.Secrets)
	envApp := consentAppEnv(ep, s.AppDatabaseURL, s.Secrets)
	if s.opts.ClientMetadataCAFile != "" || s.opts.ClientMetadataAllowLoopback {
		envApp = append(envApp, "CLIENT_METADATA_ALLOW_LOOPBACK=true")
	}
	if s.opts.ClientMetadataCAFile != "" {
		envApp = append(envApp, "CLIENT_METADATA_CA_FILE="+s.opts.ClientMetadataCAFile)
	}
	if s.opts.KnownClientsFile != "" {
		envApp = append(envApp, "KNOWN_CLIENTS_FILE="+s.opts.KnownClientsFile)
	}
	envMCP := mcpServerEnv(ep, s.AppDatabaseURL)
	if s.opts.LogLevel != "" {
		envApp = append(envApp, "LOG_LEVEL="+s.opts.LogLevel)
		envMCP = append(envMCP, "LOG_LEVEL="+s.opts.LogLevel)
	}
	s.consentApp, s.envApp = bins.consentApp, envApp
	err = parallel(
		func() error {
			return s.runOnce(ctx, "hydra-migrate", bins.hydra, envHydra, "migrate", "sql", "-e", "--yes")
		},
		func() error { return s.prepareApp(ctx, bins, envApp, envMCP) },
	)
	if err != nil {
		return nil, err
	}

	// Hydra first: the consent app talks to it from its first request on.
	s.readyURLs[Hydra] = s.HydraAdminURL + "/health/ready"
	// The consent app is ready once Hydra has its settings client.
	s.readyURLs[ConsentApp] = "http://" + listenAddr(s.Ports.ConsentApp) + "/readyz"
	hydra, err := s.startServer(Hydra, bins.hydra, envHydra,
		"serve", "all", "--dev", "--sqa-opt-out", "-c", filepath.Join(s.opts.RepoRoot, "hydra", "hydra.yml"))
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, hydra, s.readyURLs[Hydra]); err != nil {
		return nil, err
	}
	app, err := s.startServer(ConsentApp, bins.consentApp, envApp, "serve")
	if err != nil {
		return nil, err
	}
	replicas, err := s.startMCPReplicas(bins.mcpServer, envMCP)
	if err != nil {
		return nil, err
	}
	waits := []func() error{func() error { return s.waitReady(ctx, app, s.readyURLs[ConsentApp]) }}
	for _, mcp := range replicas {
		waits = append(waits, func() error { return s.waitReady(ctx, mcp, s.readyURLs[mcp.Name()]) })
	}
	if err := parallel(waits...); err != nil {
		return nil, err
	}
	for _, p := range append([]*proc.Process{hydra, app}, replicas...) {
		go s.watch(p)
	}
	s.logger.Info("stack: ready", "issuer", s.IssuerURL, "mcp", s.MCPURL, "logs", s.LogDir,
		"took", time.Since(started).Round(time.Millisecond))
	return s, nil
}

// endpoints are the stack's addresses.
func (s *Stack) endpoints() endpoints {
	return endpoints{host: s.opts.Host, ports: s.Ports, publicURL: s.opts.PublicURL, mcpResourceURL: s.opts.MCPResourceURL}
}

// startMCPReplicas starts Options.MCPReplicas MCP servers: the first on
// Ports.MCPServer, the others on free ports, all with the same canonical
// MCP URL. Only the first serves metrics.
func (s *Stack) startMCPReplicas(bin string, env []string) ([]*proc.Process, error) {
	n := max(s.opts.MCPReplicas, 1)
	ports, err := freeport.Pick(n - 1)
	if err != nil {
		return nil, err
	}
	ports = append([]int{s.Ports.MCPServer}, ports...)
	var replicas []*proc.Process
	for i, port := range ports {
		name, replicaEnv := MCPServer, env
		if i > 0 {
			name = fmt.Sprintf("mcp-server-%d", i+1)
			replicaEnv = append(slices.Clone(env), "LISTEN_ADDR="+listenAddr(port), "METRICS_ADDR=")
		}
		p, err := s.startServer(name, bin, replicaEnv, "serve")
		if err != nil {
			return nil, err
		}
		replicas = append(replicas, p)
		s.MCPReplicaURLs = append(s.MCPReplicaURLs, "http://"+listenAddr(port)+"/mcp")
		s.readyURLs[name] = "http://" + listenAddr(port) + "/healthz"
	}
	return replicas, nil
}

// RunConsentApp runs a one-shot consent-app command (such as hygiene) with
// the stack's configuration and returns its error; its output goes to
// consent-app-<command>.log in LogDir.
func (s *Stack) RunConsentApp(ctx context.Context, command string) error {
	return s.runOnce(ctx, "consent-app-"+command, s.consentApp, s.envApp, command)
}

// Exited delivers an error when a server exits while the stack runs (not
// during Stop); the error includes the tail of its log.
func (s *Stack) Exited() <-chan error { return s.exited }

// LogFiles lists every log the stack writes: its children's in LogDir and,
// with a private cluster, PostgreSQL's (deleted by Stop unless kept).
func (s *Stack) LogFiles() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(s.LogDir, "*.log"))
	if err != nil {
		return nil, err
	}
	if s.cluster != nil {
		pg, err := filepath.Glob(filepath.Join(s.cluster.Dir(), "*.log"))
		if err != nil {
			return nil, err
		}
		files = append(files, pg...)
	}
	return files, nil
}

// Stop stops the servers (SIGTERM to each process group, SIGKILL after
// StopTimeout), drops the fresh databases and stops a private cluster. It is
// safe to call more than once and on a partly started stack. Problems are
// logged: a test's cleanup has nothing better to do with them.
func (s *Stack) Stop() {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		// In reverse start order: the services hold connections to Hydra,
		// and all of them to the database.
		s.mu.Lock()
		servers := slices.Clone(s.servers)
		s.mu.Unlock()
		for i := len(servers) - 1; i >= 0; i-- {
			if err := servers[i].Stop(syscall.SIGTERM, s.opts.StopTimeout); err != nil {
				s.logger.Warn("stack: stop", "err", err)
			}
		}
		if len(s.freshDBs) > 0 {
			if err := s.dropFreshDatabases(); err != nil {
				s.logger.Warn("stack: drop databases", "err", err)
			}
		}
		if s.cluster != nil {
			if err := s.cluster.Stop(); err != nil {
				s.logger.Warn("stack: stop postgres", "err", err)
			}
		}
	})
}

func (s *Stack) applyDefaults() error {
	o := &s.opts
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s.logger = o.Logger
	if o.RepoRoot == "" {
		root, err := FindRepoRoot("")
		if err != nil {
			return err
		}
		o.RepoRoot = root
	}
	if o.Host == "" {
		o.Host = "localhost"
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 10 * time.Second
	}
	if o.LogDir == "" {
		dir, err := os.MkdirTemp("", "mcp-stack-logs-")
		if err != nil {
			return err
		}
		o.LogDir = dir
	} else if err := os.MkdirAll(o.LogDir, 0o755); err != nil {
		return err
	}
	s.LogDir = o.LogDir
	secrets, err := loadSecrets(o.SecretsFile)
	if err != nil {
		return err
	}
	s.Secrets = secrets
	return nil
}

// choosePorts checks the fixed ports (a busy one fails here, not as a bind
// error deep in a child's log) and picks free ones for the rest.
func (s *Stack) choosePorts() error {
	p := s.opts.Ports
	fields := []*int{&p.ConsentApp, &p.HydraPublic, &p.HydraAdmin, &p.MCPServer, &p.ConsentAppMetrics, &p.MCPServerMetrics}
	var missing int
	for _, f := range fields {
		if *f == 0 {
			missing++
		} else if err := freeport.Check(*f); err != nil {
			return fmt.Errorf("%w (is another stack running?)", err)
		}
	}
	free, err := freeport.Pick(missing)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if *f == 0 {
			*f, free = free[0], free[1:]
		}
	}
	s.Ports = p
	return nil
}

// prepareDatabases starts a private cluster unless a server is given, and
// creates the app's and Hydra's databases.
func (s *Stack) prepareDatabases(ctx context.Context) error {
	s.serverDB = s.opts.DatabaseURL
	if s.serverDB == "" {
		c, err := pgcluster.Start(ctx, pgcluster.Options{
			Dir:      s.opts.PostgresDir,
			TempRoot: filepath.Join(s.opts.RepoRoot, ".data", "tmp"),
			Logger:   s.logger,
		})
		if err != nil {
			return err
		}
		s.cluster = c
		s.serverDB = c.URL()
	}
	conn, err := adminConn(ctx, s.serverDB)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, db := range []struct {
		name   *string
		url    *string
		prefix string
	}{
		{&s.opts.AppDB, &s.AppDatabaseURL, "e2e_app_"},
		{&s.opts.HydraDB, &s.HydraDatabaseURL, "e2e_hydra_"},
	} {
		if *db.name == "" {
			*db.name = randomName(db.prefix)
			s.freshDBs = append(s.freshDBs, *db.name)
		}
		if err := createDatabase(ctx, conn, *db.name); err != nil {
			return err
		}
		if *db.url, err = databaseURL(s.serverDB, *db.name); err != nil {
			return err
		}
	}
	return nil
}

func (s *Stack) dropFreshDatabases() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := adminConn(ctx, s.serverDB)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var errs []error
	for _, name := range s.freshDBs {
		errs = append(errs, dropDatabase(ctx, conn, name))
	}
	return errors.Join(errs...)
}

// prepareApp migrates the app database and, with SeedDemo, seeds it.
func (s *Stack) prepareApp(ctx context.Context, bins binaries, appEnv, mcpEnv []string) error {
	type step struct {
		bin string
		env []string
		cmd string
	}
	app := func(cmd string) step { return step{bins.consentApp, appEnv, cmd} }
	mcp := func(cmd string) step { return step{bins.mcpServer, mcpEnv, cmd} }
	// consent-app first each time: the MCP server reads its tables and seeds
	// invoices for the teams it finds there.
	steps := []step{app("migrate"), mcp("migrate")}
	if s.opts.SeedDemo {
		steps = append(steps, app("seed-demo"), mcp("seed-demo"))
	}
	for _, st := range steps {
		if err := s.runOnce(ctx, filepath.Base(st.bin)+"-"+st.cmd, st.bin, st.env, st.cmd); err != nil {
			return err
		}
	}
	return nil
}

// runOnce runs a one-shot command (migration, seed) of a stack binary.
func (s *Stack) runOnce(ctx context.Context, name, bin string, env []string, args ...string) error {
	started := time.Now()
	err := proc.Run(ctx, s.spec(name, bin, env, args...))
	if err == nil {
		s.logger.Info("stack: "+name+" done", "took", time.Since(started).Round(time.Millisecond))
	}
	return err
}

// startServer starts a long-running server and keeps its spec for
// StartServer.
func (s *Stack) startServer(name, bin string, env []string, args ...string) (*proc.Process, error) {
	spec := s.spec(name, bin, env, args...)
	s.mu.Lock()
	s.specs[name] = spec
	s.mu.Unlock()
	return s.start(spec)
}

// spec runs bin from the repository root with its output in LogDir/name.log.
func (s *Stack) spec(name, bin string, env []string, args ...string) proc.Spec {
	return proc.Spec{
		Name:    name,
		Path:    bin,
		Args:    args,
		Env:     env,
		Dir:     s.opts.RepoRoot,
		LogPath: filepath.Join(s.LogDir, name+".log"),
	}
}

// start starts a server and adds it to the ones Stop stops.
func (s *Stack) start(spec proc.Spec) (*proc.Process, error) {
	p, err := proc.Start(spec)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.servers = append(s.servers, p)
	s.mu.Unlock()
	return p, nil
}

// waitReady polls url until it answers 200, the child exits, or the ready
// timeout passes.
func (s *Stack) waitReady(ctx context.Context, p *proc.Process, url string) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	probe := health.HTTPCheck(&http.Client{Timeout: 2 * time.Second}, url)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = probe(ctx); last == nil {
			return nil
		}
		select {
		case <-p.Done():
			return p.Failure()
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s: %w (last: %v); last lines of %s:\n%s",
				p.Name(), url, ctx.Err(), last, p.LogPath(), proc.Tail(p.LogPath(), 30))
		case <-tick.C:
		}
	}
}

// watch reports a server that exits on its own.
func (s *Stack) watch(p *proc.Process) {
	<-p.Done()
	s.mu.Lock()
	onPurpose := s.quiet[p]
	s.mu.Unlock()
	if s.stopping.Load() || onPurpose {
		return
	}
	select {
	case s.exited <- p.Failure():
	default: // one report is enough to stop the stack
	}
}

// parallel runs fns at once and joins their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

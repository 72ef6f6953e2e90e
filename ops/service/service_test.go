package service

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcp-oauth/ops/envconfig"
	"github.com/mcp-oauth/ops/pgtest"
)

type testConfig struct {
	common Common
	err    error
}

func (c testConfig) Validate() error { return c.err }
func (c testConfig) Common() Common  { return c.common }

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRun(t *testing.T) {
	dev := testConfig{common: Common{Mode: envconfig.Development, LogLevel: slog.LevelDebug}}
	prod := testConfig{common: Common{Mode: envconfig.Production, LogLevel: slog.LevelWarn}}
	invalid := testConfig{err: errors.New("DATABASE_URL is required")}
	tests := []struct {
		name      string
		cfg       testConfig
		args      []string
		wantRan   string // the command that ran, "" for none
		wantErr   string
		wantLevel slog.Level
	}{
		{name: "default command", cfg: dev, wantRan: "serve", wantLevel: slog.LevelDebug},
		{name: "named command", cfg: dev, args: []string{"check"}, wantRan: "check", wantLevel: slog.LevelDebug},
		{name: "unknown command", cfg: dev, args: []string{"bogus"},
			wantErr: `unknown command "bogus"; use serve (default), check, seed or vars`},
		{name: "extra arguments", cfg: dev, args: []string{"serve", "now"}, wantErr: `unexpected arguments after "serve": ["now"]`},
		{name: "extra arguments after an unknown command", cfg: dev, args: []string{"bogus", "x"}, wantErr: "unexpected arguments"},
		{name: "invalid configuration", cfg: invalid, wantErr: "invalid configuration:\nDATABASE_URL is required"},
		// Commands that need nothing run whatever the environment holds,
		// and leave the level alone.
		{name: "needs nothing, invalid configuration", cfg: invalid, args: []string{"vars"}, wantRan: "vars"},
		{name: "development only, in production", cfg: prod, args: []string{"seed"}, wantErr: "seed runs only with MODE=development",
			wantLevel: slog.LevelWarn},
		{name: "development only, in development", cfg: dev, args: []string{"seed"}, wantRan: "seed", wantLevel: slog.LevelDebug},
		{name: "development only, mode unset", cfg: testConfig{}, args: []string{"seed"}, wantErr: "runs only with MODE=development"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran string
			cmd := func(name string, needs Needs, devOnly string) Command[testConfig] {
				return Command[testConfig]{Name: name, Needs: needs, DevelopmentOnly: devOnly,
					Run: func(_ context.Context, env Env[testConfig]) error {
						ran = name
						if env.Config != tt.cfg || env.Log != discard || env.Pool != nil {
							t.Errorf("%s ran with %+v", name, env)
						}
						return nil
					}}
			}
			s := Service[testConfig]{
				Name: "svc",
				Load: func() testConfig { return tt.cfg },
				Commands: []Command[testConfig]{
					cmd("serve", NeedsConfig, ""),
					cmd("check", NeedsConfig, ""),
					cmd("seed", NeedsConfig, "seed runs only with MODE=development"),
					cmd("vars", NeedsNothing, ""),
				},
			}
			level := new(slog.LevelVar)
			err := s.Run(t.Context(), tt.args, discard, level, io.Discard)
			if tt.wantErr == "" && err != nil {
				t.Errorf("error %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if ran != tt.wantRan {
				t.Errorf("ran %q, want %q", ran, tt.wantRan)
			}
			if level.Level() != tt.wantLevel {
				t.Errorf("level %s, want %s", level.Level(), tt.wantLevel)
			}
		})
	}
}

func TestRunPassesTheCommandsError(t *testing.T) {
	boom := errors.New("boom")
	s := Service[testConfig]{Load: func() testConfig { return testConfig{} }, Commands: []Command[testConfig]{
		{Name: "serve", Run: func(context.Context, Env[testConfig]) error { return boom }}}}
	if err := s.Run(t.Context(), nil, discard, new(slog.LevelVar), io.Discard); !errors.Is(err, boom) {
		t.Errorf("error %v, want boom", err)
	}
}

func TestUsage(t *testing.T) {
	tests := []struct {
		names []string
		want  string
	}{
		{nil, "nothing"},
		{[]string{"serve"}, "serve (default)"},
		{[]string{"serve", "migrate"}, "serve (default) or migrate"},
		{[]string{"serve", "migrate", "healthcheck", "config-vars"}, "serve (default), migrate, healthcheck or config-vars"},
	}
	for _, tt := range tests {
		var s Service[testConfig]
		for _, n := range tt.names {
			s.Commands = append(s.Commands, Command[testConfig]{Name: n})
		}
		if got := s.usage(); got != tt.want {
			t.Errorf("usage(%q) = %q, want %q", tt.names, got, tt.want)
		}
	}
}

func TestConfigVars(t *testing.T) {
	var out bytes.Buffer
	vars := []envconfig.Var{{Name: "LISTEN_ADDR", Default: "localhost:1", Meaning: "where it listens"}}
	s := Service[testConfig]{Load: func() testConfig { return testConfig{err: errors.New("invalid")} },
		Commands: []Command[testConfig]{ConfigVars[testConfig]("svc", vars)}}
	if err := s.Run(t.Context(), []string{"config-vars"}, discard, new(slog.LevelVar), &out); err != nil {
		t.Fatal(err)
	}
	if want := envconfig.Markdown("svc", vars); out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

func TestHealthcheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ready := atomic.Bool{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s := Service[testConfig]{
		Load: func() testConfig {
			return testConfig{common: Common{ListenAddr: ln.Addr().String()}, err: errors.New("invalid")}
		},
		Commands: []Command[testConfig]{Healthcheck[testConfig]()},
	}
	if err := s.Run(t.Context(), []string{"healthcheck"}, discard, new(slog.LevelVar), io.Discard); err == nil {
		t.Error("healthcheck passed while the server is not ready")
	}
	ready.Store(true)
	if err := s.Run(t.Context(), []string{"healthcheck"}, discard, new(slog.LevelVar), io.Discard); err != nil {
		t.Errorf("healthcheck of a ready server: %v", err)
	}
}

// pipeListener is an in-memory listener, so that Serve runs inside a
// synctest bubble: its connections block durably, and time is fake.
type pipeListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// get sends one GET over a fresh pipe and returns its status, or an error.
func (l *pipeListener) get(path string) (int, error) {
	client, server := net.Pipe()
	defer client.Close()
	select {
	case l.conns <- server:
	case <-l.done:
		return 0, net.ErrClosed
	}
	req, _ := http.NewRequest(http.MethodGet, "http://svc"+path, nil)
	if err := req.Write(client); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(client), req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestServeDrains(t *testing.T) {
	tests := []struct {
		name     string
		work     time.Duration // how long the in-flight request takes
		drain    time.Duration
		wantErr  bool
		wantTook time.Duration // from the signal to Serve's return
	}{
		{name: "finishes within the drain", work: 3 * time.Second, drain: 15 * time.Second, wantTook: 3 * time.Second},
		{name: "outlasts the drain", work: time.Hour, drain: 15 * time.Second, wantErr: true, wantTook: 15 * time.Second},
		{name: "nothing in flight", drain: 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ln := newPipeListener()
				started := make(chan struct{})
				srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/slow" {
						close(started)
						select {
						case <-time.After(tt.work):
						case <-r.Context().Done(): // srv.Close at the end
						}
					}
				})}
				ctx, signal := context.WithCancel(t.Context())
				served := make(chan error, 1)
				go func() { served <- Serve(ctx, srv, ln, discard, tt.drain) }()

				if status, err := ln.get("/"); err != nil || status != http.StatusOK {
					t.Fatalf("before the signal: %d, %v", status, err)
				}
				slow := make(chan error, 1)
				if tt.work > 0 {
					go func() {
						status, err := ln.get("/slow")
						if err == nil && status != http.StatusOK {
							err = errors.New(http.StatusText(status))
						}
						slow <- err
					}()
					<-started
				}
				signal()
				at := time.Now()
				synctest.Wait()
				// Stopped accepting at once.
				if _, err := ln.get("/"); !errors.Is(err, net.ErrClosed) {
					t.Errorf("a request after the signal: %v, want the listener closed", err)
				}
				err := <-served
				// Shutdown polls for idle connections every half second at most.
				if took := time.Since(at); took < tt.wantTook || took > tt.wantTook+time.Second {
					t.Errorf("Serve returned %s after the signal, want %s", took, tt.wantTook)
				}
				if (err != nil) != tt.wantErr {
					t.Errorf("Serve = %v, want an error: %v", err, tt.wantErr)
				}
				if tt.work > 0 && !tt.wantErr {
					if err := <-slow; err != nil {
						t.Errorf("the in-flight request: %v", err)
					}
				}
				srv.Close()
				if tt.work > 0 && tt.wantErr {
					<-slow
				}
			})
		})
	}
}

func TestServeReturnsTheServersError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := newPipeListener()
		ln.Close()
		err := Serve(t.Context(), &http.Server{}, ln, discard, time.Second)
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve on a closed listener = %v", err)
		}
	})
}

func TestOpenPool(t *testing.T) {
	tests := []struct {
		name, url, wantErr string
	}{
		// The message never quotes the URL: it may carry a password.
		{"unparsable", "postgres://app:s3cret@host:notaport/db", "DATABASE_URL: not a PostgreSQL connection URL"},
		{"unreachable", "postgres://app:s3cret@127.0.0.1:1/db?connect_timeout=1", "connect to database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, err := OpenPool(t.Context(), tt.url, PoolOptions{})
			if err == nil {
				pool.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q, want %q and no password", err, tt.wantErr)
			}
		})
	}
}

func TestOpenPoolPingOnAcquire(t *testing.T) {
	_, url, _ := pgtest.Schema(t, "service")
	for _, ping := range []bool{false, true} {
		pool, err := OpenPool(t.Context(), url, PoolOptions{PingOnAcquire: ping})
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().ShouldPing != nil; got != ping {
			t.Errorf("PingOnAcquire %v: ShouldPing set %v", ping, got)
		}
		pool.Close()
	}
}

// Two migrations started together run one after the other.
func TestMigrateTakesTheLock(t *testing.T) {
	pool, _, _ := pgtest.Schema(t, "service")
	var running, overlapped atomic.Int32
	migrate := func(ctx context.Context) error {
		if running.Add(1) > 1 {
			overlapped.Add(1)
		}
		defer running.Add(-1)
		time.Sleep(200 * time.Millisecond)
		return nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() { errs <- Migrate(t.Context(), pool, migrate) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if overlapped.Load() > 0 {
		t.Errorf("%d migrations ran while another held the lock", overlapped.Load())
	}
	// The lock is released, also after a failed migration.
	boom := errors.New("boom")
	if err := Migrate(t.Context(), pool, func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Migrate = %v, want boom", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := Migrate(ctx, pool, func(context.Context) error { return nil }); err != nil {
		t.Errorf("after a failed migration: %v", err)
	}
}

// A command that needs the database gets an open pool, closed when it
// returns; one that cannot reach the database does not run.
func TestRunOpensThePool(t *testing.T) {
	_, url, _ := pgtest.Schema(t, "service")
	tests := []struct {
		name, url, wantErr string
	}{
		{"reachable", url, ""},
		{"unreachable", "postgres://app@127.0.0.1:1/db?connect_timeout=1", "connect to database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			var pool interface{ Ping(context.Context) error }
			s := Service[testConfig]{
				Load: func() testConfig { return testConfig{common: Common{Mode: envconfig.Development, DatabaseURL: tt.url}} },
				Pool: PoolOptions{PingOnAcquire: true},
				Commands: []Command[testConfig]{{Name: "migrate", Needs: NeedsDatabase, Run: func(ctx context.Context, env Env[testConfig]) error {
					ran = true
					if env.Pool == nil || env.Pool.Config().ShouldPing == nil {
						t.Fatal("no pool, or not the configured one")
					}
					pool = env.Pool
					return env.Pool.Ping(ctx)
				}}},
			}
			err := s.Run(t.Context(), nil, discard, new(slog.LevelVar), io.Discard)
			if tt.wantErr == "" {
				if err != nil || !ran {
					t.Fatalf("ran %v, error %v", ran, err)
				}
				if pool.Ping(t.Context()) == nil {
					t.Error("the pool is still open after the command")
				}
				return
			}
			if ran || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ran %v, error %v, want %q", ran, err, tt.wantErr)
			}
		})
	}
}

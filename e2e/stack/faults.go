package stack

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/mcp-oauth/e2e/internal/proc"
)

// The servers' names, for StopServer, StartServer and SignalServer. Further
// MCP server replicas (Options.MCPReplicas) are mcp-server-2, -3, ...
const (
	Hydra      = "hydra"
	ConsentApp = "consent-app"
	MCPServer  = "mcp-server"
)

// StopServer stops the named server as an outage would — sig SIGTERM for a
// shutdown, SIGKILL for a crash — until StartServer. Tests use it to check
// what the other servers do meanwhile; the stack's Exited does not report
// it.
func (s *Stack) StopServer(name string, sig syscall.Signal) error {
	s.mu.Lock()
	if s.down[name] != nil {
		s.mu.Unlock()
		return fmt.Errorf("stack: %s is already stopped", name)
	}
	p := s.running(name)
	if p == nil {
		s.mu.Unlock()
		return fmt.Errorf("stack: %s is not running", name)
	}
	s.down[name] = p
	s.quiet[p] = true
	s.mu.Unlock()
	return p.Stop(sig, s.opts.StopTimeout)
}

// StartServer starts a server stopped by StopServer again, with the same
// configuration and database, and waits until it is ready. Its output goes
// to a new log file (<name>.restart-N.log).
func (s *Stack) StartServer(ctx context.Context, name string) error {
	s.mu.Lock()
	old := s.down[name]
	s.restarts[name]++
	spec := s.specs[name]
	spec.LogPath = filepath.Join(s.LogDir, fmt.Sprintf("%s.restart-%d.log", name, s.restarts[name]))
	s.mu.Unlock()
	if old == nil {
		return fmt.Errorf("stack: %s was not stopped", name)
	}
	p, err := proc.Start(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.servers[slices.Index(s.servers, old)] = p
	delete(s.down, name)
	s.mu.Unlock()
	if err := s.waitReady(ctx, p, s.readyURLs[name]); err != nil {
		return err
	}
	go s.watch(p)
	return nil
}

// SignalServer sends sig to the named server's process group. SIGSTOP and
// SIGCONT freeze and thaw it — a dependency that hangs rather than fails.
func (s *Stack) SignalServer(name string, sig syscall.Signal) error {
	s.mu.Lock()
	p := s.running(name)
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("stack: %s is not running", name)
	}
	return p.Signal(sig)
}

// running returns the named server unless it is stopped. s.mu must be held.
func (s *Stack) running(name string) *proc.Process {
	if s.down[name] != nil {
		return nil
	}
	i := slices.IndexFunc(s.servers, func(p *proc.Process) bool { return p.Name() == name })
	if i < 0 {
		return nil
	}
	return s.servers[i]
}

// StopHydra is StopServer(Hydra, SIGTERM).
func (s *Stack) StopHydra() error { return s.StopServer(Hydra, syscall.SIGTERM) }

// StartHydra is StartServer(Hydra).
func (s *Stack) StartHydra(ctx context.Context) error { return s.StartServer(ctx, Hydra) }

// RestartPostgres restarts the stack's private PostgreSQL cluster — a fast
// shutdown, which ends every session, then a start on the same port with
// the same data — as a database restart or failover would, and waits until
// it accepts connections again. The servers are left alone: they must
// reconnect by themselves. Only a stack with its own cluster
// (Options.DatabaseURL "") can do this.
func (s *Stack) RestartPostgres(ctx context.Context) error {
	if s.cluster == nil {
		return errors.New("stack: RestartPostgres needs the stack's own cluster (Options.DatabaseURL empty)")
	}
	return s.cluster.Restart(ctx)
}

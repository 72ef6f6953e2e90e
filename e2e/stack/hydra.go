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

// StopHydra stops Hydra, as an outage would, until StartHydra. Tests use it
// to check what the consent app and the MCP server do without Hydra; the
// stack's Exited does not report it.
func (s *Stack) StopHydra() error {
	s.mu.Lock()
	if s.hydraDown != nil {
		s.mu.Unlock()
		return errors.New("stack: hydra is already stopped")
	}
	i := slices.IndexFunc(s.servers, func(p *proc.Process) bool { return p.Name() == s.hydraSpec.Name })
	if i < 0 {
		s.mu.Unlock()
		return errors.New("stack: hydra is not running")
	}
	p := s.servers[i]
	s.hydraDown = p
	if s.quiet == nil {
		s.quiet = map[*proc.Process]bool{}
	}
	s.quiet[p] = true
	s.mu.Unlock()
	return p.Stop(syscall.SIGTERM, s.opts.StopTimeout)
}

// StartHydra starts Hydra again after StopHydra, with the same
// configuration and database, and waits until it is ready. Its output goes
// to a new log file (hydra.restart-N.log).
func (s *Stack) StartHydra(ctx context.Context) error {
	s.mu.Lock()
	old := s.hydraDown
	s.hydraRuns++
	spec := s.hydraSpec
	spec.LogPath = filepath.Join(s.LogDir, fmt.Sprintf("%s.restart-%d.log", spec.Name, s.hydraRuns))
	s.mu.Unlock()
	if old == nil {
		return errors.New("stack: hydra was not stopped")
	}
	p, err := proc.Start(spec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.servers[slices.Index(s.servers, old)] = p
	s.hydraDown = nil
	s.mu.Unlock()
	if err := s.waitReady(ctx, p, s.HydraAdminURL+"/health/ready"); err != nil {
		return err
	}
	go s.watch(p)
	return nil
}

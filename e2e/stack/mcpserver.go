package stack

import (
	"context"
	"fmt"
	"slices"
	"syscall"

	"github.com/mcp-oauth/e2e/internal/freeport"
	"github.com/mcp-oauth/e2e/internal/proc"
)

// MCPServerOptions vary an extra MCP server. The zero value is another
// replica of the stack's own: same binary, same configuration (the same
// resource URL, so it accepts the same tokens), its own ports.
type MCPServerOptions struct {
	// Name names its log file; "" = "mcp-server-<port>".
	Name string
	// Binary is the executable; "" = the stack's mcp-server. (The benchmark
	// passes its own build of the server.)
	Binary string
	// Env is added to the stack's MCP server environment, overriding it.
	Env []string
}

// ExtraMCPServer is an extra MCP server started by StartMCPServer. It stops with
// the stack, or before with Stop.
type ExtraMCPServer struct {
	// Addr is where it listens (127.0.0.1:port). Its requests carry the
	// stack's resource URL as audience, and a loopback Host is accepted.
	Addr string
	PID  int

	s *Stack
	p *proc.Process
}

// Stop stops the server; the stack's Exited does not report it.
func (m *ExtraMCPServer) Stop() error {
	s := m.s
	s.mu.Lock()
	if s.quiet == nil {
		s.quiet = map[*proc.Process]bool{}
	}
	s.quiet[m.p] = true
	s.servers = slices.DeleteFunc(s.servers, func(p *proc.Process) bool { return p == m.p })
	s.mu.Unlock()
	return m.p.Stop(syscall.SIGTERM, s.opts.StopTimeout)
}

// StartMCPServer starts one more MCP server process beside the stack's own
// and waits until it is ready.
func (s *Stack) StartMCPServer(ctx context.Context, opts MCPServerOptions) (*ExtraMCPServer, error) {
	ports, err := freeport.Pick(2)
	if err != nil {
		return nil, err
	}
	if opts.Name == "" {
		opts.Name = fmt.Sprintf("mcp-server-%d", ports[0])
	}
	if opts.Binary == "" {
		opts.Binary = s.bins.mcpServer
	}
	ep := s.endpoints()
	// Later entries win in a process environment.
	env := append(mcpServerEnv(ep, s.AppDatabaseURL),
		"LISTEN_ADDR="+listenAddr(ports[0]),
		"METRICS_ADDR="+listenAddr(ports[1]))
	env = append(env, opts.Env...)
	p, err := s.startServer(opts.Name, opts.Binary, env, "serve")
	if err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx, p, "http://"+listenAddr(ports[0])+"/healthz"); err != nil {
		return nil, err
	}
	go s.watch(p)
	return &ExtraMCPServer{Addr: listenAddr(ports[0]), PID: p.Pid(), s: s, p: p}, nil
}

// ServerPID returns the process id of the stack's server named name
// ("hydra", "consent-app", "mcp-server"), e.g. to read its memory use.
func (s *Stack) ServerPID(name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.servers, func(p *proc.Process) bool { return p.Name() == name })
	if i < 0 {
		return 0, fmt.Errorf("stack: no server named %q", name)
	}
	return s.servers[i].Pid(), nil
}

// MCPServerAddr is where the stack's own MCP server listens (127.0.0.1:port):
// the address behind MCPURL, without the name lookup.
func (s *Stack) MCPServerAddr() string { return listenAddr(s.Ports.MCPServer) }

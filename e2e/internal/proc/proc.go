// Package proc runs the stack's child processes: each in its own process
// group, with its output in a log file, and tied to the life of its parent so
// that a crashed test binary or launcher leaves nothing running.
package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Spec describes a child process.
type Spec struct {
	Name string   // short name used in errors, e.g. "hydra"
	Path string   // executable
	Args []string // arguments after the executable
	Env  []string // complete environment; nil means the parent's
	Dir  string   // working directory; "" = the parent's
	// LogPath receives stdout and stderr (truncated first). Required: a child's
	// output is the only way to tell why it failed.
	LogPath string
	// Credential runs the child as another user ("" = same user); used to
	// start PostgreSQL, which refuses to run as root.
	Credential *syscall.Credential
	// DeathSignal is sent to the child by the kernel when the parent dies
	// (Linux Pdeathsig); 0 = SIGTERM. It is what keeps a SIGKILLed test
	// binary from leaving servers behind.
	DeathSignal syscall.Signal
}

// Process is a started child.
type Process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // set before done is closed
}

// Start starts the child described by s.
func Start(s Spec) (*Process, error) {
	cmd, err := command(s)
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		closeOutput(cmd)
		return nil, fmt.Errorf("start %s: %w", s.Name, err)
	}
	// The child has its own copy of the log file descriptor.
	closeOutput(cmd)
	p := &Process{name: s.Name, logPath: s.LogPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Run runs a one-shot child (a migration, a build) to completion. When ctx
// ends first, the child's whole process group is killed. A failure's error
// includes the tail of the child's log.
func Run(ctx context.Context, s Spec) error {
	p, err := Start(s)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.Kill()
		<-p.done
		return fmt.Errorf("%s: %w", s.Name, ctx.Err())
	}
	if p.err != nil {
		return p.Failure()
	}
	return nil
}

func command(s Spec) (*exec.Cmd, error) {
	if s.LogPath == "" {
		return nil, fmt.Errorf("%s: no log path", s.Name)
	}
	out, err := os.OpenFile(s.LogPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = s.Env
	cmd.Dir = s.Dir
	cmd.Stdout = out
	cmd.Stderr = out
	sig := s.DeathSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Own process group: a terminal's Ctrl-C reaches only the launcher,
		// which then stops the children in order; and signalling the group
		// also reaches anything the child forked.
		Setpgid:    true,
		Pdeathsig:  sig,
		Credential: s.Credential,
	}
	return cmd, nil
}

func closeOutput(cmd *exec.Cmd) {
	if f, ok := cmd.Stdout.(*os.File); ok {
		f.Close()
	}
}

// Name returns the child's name.
func (p *Process) Name() string { return p.name }

// Pid returns the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath returns the file holding the child's output.
func (p *Process) LogPath() string { return p.logPath }

// Done is closed when the child has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Failure describes how the child ended, with the tail of its log. Only
// meaningful after Done is closed.
func (p *Process) Failure() error {
	status := "exited"
	if p.err != nil {
		status = p.err.Error()
	}
	return fmt.Errorf("%s %s; last lines of %s:\n%s", p.name, status, p.logPath, Tail(p.logPath, 30))
}

// signalGroup sends sig to the child's process group.
func (p *Process) signalGroup(sig syscall.Signal) error {
	err := syscall.Kill(-p.cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

// Signal sends sig to the child's process group.
func (p *Process) Signal(sig syscall.Signal) error { return p.signalGroup(sig) }

// Kill kills the child's process group at once.
func (p *Process) Kill() { _ = p.signalGroup(syscall.SIGKILL) }

// Stop sends sig to the child's process group and waits for it to exit; after
// grace it kills the group. It returns an error only if the child could not be
// stopped; how the child exited is not an error here (a server stopped by a
// signal often reports that signal).
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.signalGroup(sig); err != nil {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	p.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("%s did not stop within %s and was killed", p.name, grace)
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) did not die after SIGKILL", p.name, p.Pid())
	}
}

// Tail returns the last n lines of the file at path, or a note why it cannot.
func Tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	// Read at most the last 64 KiB: enough for n lines of any sane log.
	const window = 64 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		if _, err := f.Seek(-window, io.SeekEnd); err != nil {
			return fmt.Sprintf("(log unreadable: %v)", err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(bytes.ToValidUTF8(data, []byte("?"))), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

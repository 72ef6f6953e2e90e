package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-oauth/e2e/stack"
)

// nodeProcess is a real Node.js MCP client from e2e/node, installed there by
// scripts/test (npm ci, pinned by package-lock.json).
type nodeProcess struct {
	stdin  io.WriteCloser
	stdout chan string
	stderr chan string
	done   chan error

	mu  sync.Mutex
	log strings.Builder // stderr so far, for failure messages
}

// startNode runs `node <script> args...` in e2e/node with extra environment.
// The process group is killed when the test ends.
func startNode(t *testing.T, env []string, script string, args ...string) *nodeProcess {
	t.Helper()
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not on PATH: the Node.js MCP clients need Node.js 20 or newer (Debian package nodejs)")
	}
	root, err := stack.FindRepoRoot("")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "e2e", "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		t.Fatalf("the Node clients are not installed: run `npm ci` in %s (scripts/test does)", dir)
	}
	cmd := exec.Command(nodeBin, append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &nodeProcess{stdout: make(chan string, 100), stderr: make(chan string, 1000), done: make(chan error, 1)}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	p.stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	readers.Go(func() { pump(stdout, p.stdout, nil) })
	readers.Go(func() { pump(stderr, p.stderr, p.record) })
	go func() {
		readers.Wait()
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() || testing.Verbose() {
			t.Logf("%s stderr:\n%s", script, p.stderrText())
		}
	})
	return p
}

func pump(r io.Reader, lines chan<- string, record func(string)) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if record != nil {
			record(sc.Text())
		}
		select {
		case lines <- sc.Text():
		default: // nobody reads this stream closely; the record keeps it
		}
	}
	close(lines)
}

func (p *nodeProcess) record(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log.WriteString(line + "\n")
}

func (p *nodeProcess) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// line waits for the next line from ch.
func (p *nodeProcess) line(t *testing.T, ch <-chan string, what string) string {
	t.Helper()
	select {
	case l, ok := <-ch:
		if !ok {
			t.Fatalf("the client ended while the test waited for %s", what)
		}
		return l
	case <-time.After(60 * time.Second):
		t.Fatalf("no %s within a minute", what)
	}
	return ""
}

// lineContaining waits for a line from ch that contains substr.
func (p *nodeProcess) lineContaining(t *testing.T, ch <-chan string, substr string) string {
	t.Helper()
	for {
		if l := p.line(t, ch, "a line with "+strconv.Quote(substr)); strings.Contains(l, substr) {
			return l
		}
	}
}

// send writes v as one JSON line to the client's stdin.
func (p *nodeProcess) send(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(p.stdin, "%s\n", b); err != nil {
		t.Fatalf("write to the client: %v", err)
	}
}

// wait waits for the client to exit and fails the test unless it succeeded.
func (p *nodeProcess) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("the client failed: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the client did not exit within a minute")
	}
}

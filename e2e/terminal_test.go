package e2e

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal is a command running under a pseudo terminal, as in a person's
// shell: some CLIs refuse to prompt without one (Claude Code's `mcp login`
// aborts with "this isn't an interactive terminal"). All it prints is kept,
// so that the test can wait for text and show everything when it fails.
type terminal struct {
	t    *testing.T
	name string
	tty  *os.File // the pty's controlling side
	cmd  *exec.Cmd

	mu  sync.Mutex
	out []byte

	readDone chan struct{} // the output is complete
	exited   chan struct{} // the process has been waited for
	err      error         // cmd.Wait's result, once exited is closed
}

// pollEvery is how often expect looks at the output again.
const pollEvery = 50 * time.Millisecond

// startTerminal runs bin with args in dir under a new pty. The terminal is
// wide so that long authorization URLs are printed on one line. The process
// (a session leader, so its whole group) is killed when the test ends.
func startTerminal(t *testing.T, dir string, env []string, bin string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 1000})
	if err != nil {
		t.Fatalf("start %s under a pty: %v", bin, err)
	}
	term := &terminal{t: t, name: cmd.String(), tty: tty, cmd: cmd, readDone: make(chan struct{}), exited: make(chan struct{})}
	go term.read()
	go func() {
		term.err = cmd.Wait()
		close(term.exited)
	}()
	t.Cleanup(term.stop)
	return term
}

func (term *terminal) read() {
	defer close(term.readDone)
	buf := make([]byte, 4096)
	for {
		n, err := term.tty.Read(buf)
		term.mu.Lock()
		term.out = append(term.out, buf[:n]...)
		term.mu.Unlock()
		if err != nil { // EIO once the last process holding the pty is gone
			return
		}
	}
}

func (term *terminal) stop() {
	_ = syscall.Kill(-term.cmd.Process.Pid, syscall.SIGKILL)
	<-term.exited
	term.tty.Close()
	if term.t.Failed() || testing.Verbose() {
		term.t.Logf("%s printed:\n%s", term.name, term.text())
	}
}

// text is what the terminal shows so far, without escape sequences.
func (term *terminal) text() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return plainText(term.out)
}

// ansi matches the escape sequences CLIs print: CSI (colours, cursor moves)
// and OSC (hyperlinks, titles), which end in BEL or ST.
var ansi = regexp.MustCompile(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)`)

func plainText(b []byte) string { return ansi.ReplaceAllString(string(b), "") }

// expect waits until the text matches re and returns the submatches. It
// fails the test, with everything printed, when the process exits first or
// within bounds nothing matches.
func (term *terminal) expect(re *regexp.Regexp, within time.Duration) []string {
	term.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if m := re.FindStringSubmatch(term.text()); m != nil {
			return m
		}
		select {
		case <-term.readDone:
			if m := re.FindStringSubmatch(term.text()); m != nil {
				return m
			}
			select {
			case <-term.exited:
				term.t.Fatalf("%s ended (%v) before printing /%s/", term.name, term.err, re)
			case <-time.After(time.Second):
				term.t.Fatalf("%s closed its terminal before printing /%s/", term.name, re)
			}
		case <-time.After(pollEvery):
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("%s printed nothing matching /%s/ within %s", term.name, re, within)
		}
	}
}

// typeLine types s and Enter.
func (term *terminal) typeLine(s string) { term.t.Helper(); term.send(s + "\r") }

// send writes s as keystrokes.
func (term *terminal) send(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.tty, s); err != nil {
		term.t.Fatalf("type into %s: %v", term.name, err)
	}
}

// wait waits for the process to exit and fails the test unless it exited 0.
func (term *terminal) wait(within time.Duration) {
	term.t.Helper()
	select {
	case <-term.exited:
	case <-time.After(within):
		term.t.Fatalf("%s did not exit within %s", term.name, within)
	}
	if term.err != nil {
		term.t.Fatalf("%s failed: %v", term.name, term.err)
	}
}

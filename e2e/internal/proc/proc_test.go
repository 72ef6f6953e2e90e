package proc

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func spec(t *testing.T, script string) Spec {
	t.Helper()
	return Spec{
		Name:    "child",
		Path:    "/bin/sh",
		Args:    []string{"-c", script},
		LogPath: filepath.Join(t.TempDir(), "child.log"),
	}
}

func TestRunFailureQuotesLog(t *testing.T) {
	err := Run(t.Context(), spec(t, "echo first; echo 'the reason' >&2; exit 3"))
	if err == nil {
		t.Fatal("Run succeeded on exit 3")
	}
	for _, want := range []string{"child", "exit status 3", "the reason"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := Run(t.Context(), spec(t, "exit 0")); err != nil {
		t.Errorf("Run on exit 0: %v", err)
	}
}

func TestRunCancelKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "grandchild")
	s := spec(t, "sleep 60 & echo $! > "+pidFile+"; wait")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := Run(ctx, s); err == nil {
		t.Fatal("Run succeeded after its context ended")
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	// The grandchild shares the child's process group, so it dies too (it may
	// linger a moment as a zombie until its new parent reaps it).
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("grandchild %d still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // gone
	}
	// Format: pid (comm) state ...
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

func TestStopEscalatesToKill(t *testing.T) {
	// Ignores SIGTERM, as a hung server would.
	p, err := Start(spec(t, "trap '' TERM; echo ready; while :; do sleep 0.05; done"))
	if err != nil {
		t.Fatal(err)
	}
	waitForLog(t, p.LogPath(), "ready")
	err = p.Stop(syscall.SIGTERM, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop = %v, want a note that the child was killed", err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("child still running after Stop")
	}
	if err := p.Stop(syscall.SIGTERM, time.Second); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStopGraceful(t *testing.T) {
	p, err := Start(spec(t, "trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.05; done"))
	if err != nil {
		t.Fatal(err)
	}
	waitForLog(t, p.LogPath(), "ready")
	if err := p.Stop(syscall.SIGTERM, 5*time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got := Tail(p.LogPath(), 1); got != "bye" {
		t.Errorf("last log line %q, want %q", got, "bye")
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Tail(path, 2); got != "b\nc" {
		t.Errorf("Tail = %q, want %q", got, "b\nc")
	}
	if got := Tail(filepath.Join(t.TempDir(), "missing"), 2); !strings.Contains(got, "no log") {
		t.Errorf("Tail of a missing file = %q", got)
	}
}

func waitForLog(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(path); strings.Contains(string(data), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%q never appeared in %s", want, path)
}

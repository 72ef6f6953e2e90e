// Command withpg runs a command with DATABASE_URL pointing at a private,
// throwaway PostgreSQL cluster, then stops the cluster and deletes it. It
// exits with the command's status. scripts/test uses it so that all test
// packages share one server and create their own databases on it.
//
//	withpg command [args...]
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mcp-oauth/e2e/stack"
	"github.com/mcp-oauth/e2e/stack/pgcluster"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: withpg command [args...]")
		os.Exit(2)
	}
	code, err := run(logger, os.Args[1:])
	if err != nil {
		logger.Error("withpg", "err", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func run(logger *slog.Logger, args []string) (int, error) {
	// Installed before the cluster starts, so an early Ctrl-C still reaches
	// the cleanup below instead of killing this process outright.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)

	root, err := stack.FindRepoRoot("")
	if err != nil {
		return 1, err
	}
	cluster, err := pgcluster.Start(context.Background(), pgcluster.Options{
		TempRoot: filepath.Join(root, ".data", "tmp"),
		Logger:   logger,
	})
	if err != nil {
		return 1, err
	}
	defer func() {
		if err := cluster.Stop(); err != nil {
			logger.Warn("withpg: stop postgres", "err", err)
		}
	}()

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "DATABASE_URL="+cluster.URL())
	// If this process dies, the command must not run on against a server
	// that is gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return 1, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			// A terminal's Ctrl-C reaches the command too; a SIGTERM sent
			// to this process alone must be passed on.
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal()), nil
				}
				return exit.ExitCode(), nil
			}
			return 0, err
		}
	}
}

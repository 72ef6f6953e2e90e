// Package e2e holds the whole-stack tests: real PostgreSQL, real Hydra, the
// consent app and the MCP server as built binaries, and the go-sdk's own MCP
// client doing discovery, registration and PKCE.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/mcp-oauth/e2e/stack"
)

// st is the stack shared by every test in this package.
var st *stack.Stack

// clientDocs serves the tests' Client ID Metadata Documents.
var clientDocs *clientDocServer

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	logDir, err := os.MkdirTemp("", "e2e-logs-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	var caFile string
	clientDocs, caFile, err = startClientDocs(logDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: client metadata document server: %v\n", err)
		return 1
	}
	defer clientDocs.srv.Close()
	st, err = stack.Start(ctx, stack.Options{
		ClientMetadataCAFile: caFile,
		DatabaseURL:          os.Getenv("DATABASE_URL"),
		SeedDemo:             true,
		MCPReplicas:          2, // revocation must reach every replica at once
		// Every test runs against debug logs, and the log scan (leak_test.go)
		// reads them all.
		LogLevel: "debug",
		LogDir:   logDir,
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: start the stack: %v\n(logs in %s)\n", err, logDir)
		return 1
	}
	code := m.Run()
	// Whatever each test handled, no server wrote a credential down.
	if err := sweepLogs(st); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		code = 1
	}
	st.Stop()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: the servers' logs are in %s\n", logDir)
	} else {
		os.RemoveAll(logDir)
	}
	return code
}

// Command stack runs the whole local stack in the foreground on the README's
// default addresses, with demo data, until Ctrl-C or SIGTERM. scripts/run
// builds and starts it.
//
// PostgreSQL: with DATABASE_URL set, the app database is the one it names
// (default mcp_app) and Hydra's is "hydra" on the same server; otherwise a
// private cluster kept in .data/pg. Data and secrets (.data/secrets.json) are
// kept between runs, so registered clients and connections survive a
// restart; delete .data to start afresh.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/stack"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(logger); err != nil {
		logger.Error("stack", "err", err)
		os.Exit(1)
	}
}

func run(logger *slog.Logger) error {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	root, err := stack.FindRepoRoot("")
	if err != nil {
		return err
	}
	data := filepath.Join(root, ".data")
	opts := stack.Options{
		RepoRoot:    root,
		AppDB:       "mcp_app",
		HydraDB:     "hydra",
		Ports:       stack.DefaultPorts(),
		Host:        "localhost",
		LogDir:      filepath.Join(data, "logs"),
		SeedDemo:    true,
		SecretsFile: filepath.Join(data, "secrets.json"),
		LogLevel:    os.Getenv("LOG_LEVEL"),
		Logger:      logger,
		// Behind an HTTPS tunnel (README, "Try it from the internet").
		PublicURL:      os.Getenv("PUBLIC_URL"),
		MCPResourceURL: os.Getenv("MCP_RESOURCE_URL"),
		// Development-only client metadata settings, passed through.
		ClientMetadataAllowLoopback: os.Getenv("CLIENT_METADATA_ALLOW_LOOPBACK") == "true",
		ClientMetadataCAFile:        os.Getenv("CLIENT_METADATA_CA_FILE"),
		KnownClientsFile:            os.Getenv("KNOWN_CLIENTS_FILE"),
	}
	postgres := "private cluster in .data/pg"
	if url := os.Getenv("DATABASE_URL"); url != "" {
		opts.DatabaseURL = url
		if name := stack.DatabaseName(url); name != "" {
			opts.AppDB = name
		}
		postgres = "the DATABASE_URL server"
	} else {
		opts.PostgresDir = filepath.Join(data, "pg")
	}

	st, err := stack.Start(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			logger.Info("stack: interrupted while starting; stopped what had started")
			return nil
		}
		return err
	}
	defer st.Stop()

	fmt.Printf(`
The MCP OAuth stack is running.

  MCP server    %s
  Auth origin   %s  (the issuer: sign-in, consent)
  Settings      %s/settings  (your connections; team admins)
  Hydra         public %s, admin %s (internal)
  PostgreSQL    %s: databases %s and %s
  Logs          %s

Connect Claude Code:

  claude mcp add --transport http acme %s

Demo logins (password after the slash):

%s
Press Ctrl-C to stop.
`, st.MCPURL, st.IssuerURL, st.IssuerURL, st.HydraPublicURL, st.HydraAdminURL,
		postgres, opts.AppDB, opts.HydraDB, st.LogDir, st.MCPURL, demoLogins())

	select {
	case <-ctx.Done():
		// A second Ctrl-C now ends the launcher at once; the children then
		// get their parent-death signal.
		stopSignals()
		logger.Info("stack: stopping")
		return nil
	case err := <-st.Exited():
		return err
	}
}

// demoLogins lists the demo users (package demo), one a line: email,
// password, and their teams with their roles.
func demoLogins() string {
	users := demo.Users()
	var we, wp int
	for _, u := range users {
		we, wp = max(we, len(u.Email)), max(wp, len(u.Password))
	}
	var b strings.Builder
	for _, u := range users {
		var teams []string
		for _, t := range demo.Teams() {
			if r, ok := u.Teams[t.Slug]; ok {
				teams = append(teams, t.Name+" ("+string(r)+")")
			}
		}
		desc := "no team"
		if len(teams) > 0 {
			desc = strings.Join(teams, ", ")
		}
		fmt.Fprintf(&b, "  %-*s / %-*s   %s\n", we, u.Email, wp, u.Password, desc)
	}
	return b.String()
}

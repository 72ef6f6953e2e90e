// Command bench starts a private stack and measures it: P1 auth overhead, P2
// verification, P3 revocation, P4 the OAuth dance, P5 load and memory, and
// the hot paths' Go benchmarks. It prints one Markdown table to stdout
// (progress goes to stderr). scripts/bench builds and runs it;
// docs/benchmarks.md explains the figures.
//
// PostgreSQL: with DATABASE_URL set, fresh databases on that server (dropped
// afterwards); otherwise a throwaway private cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mcp-oauth/e2e/bench"
	"github.com/mcp-oauth/e2e/stack"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log, os.Args[1:], os.Stdout); err != nil {
		log.Error("bench", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	// -short picks the other defaults, so it is applied before the flags
	// that may still change them.
	fs.Bool("short", false, "a smoke run: every phase with tiny loads, no Go benchmarks")
	p := bench.Defaults()
	if slices.ContainsFunc(args, func(a string) bool { return a == "-short" || a == "--short" || a == "-short=true" }) {
		p = bench.Short()
	}
	out := fs.String("o", "", "also write the table to this file")
	fs.IntVar(&p.Dances, "dances", p.Dances, "P4: OAuth dances (each leaves a connection for the other phases)")
	fs.IntVar(&p.Revokes, "revokes", p.Revokes, "P3: revokes")
	fs.IntVar(&p.LoadTokens, "tokens", p.LoadTokens, "P1, P5: connections the load spreads over")
	fs.IntVar(&p.P1Workers, "p1-workers", p.P1Workers, "P1: workers calling back to back")
	fs.IntVar(&p.P1Rounds, "p1-rounds", p.P1Rounds, "P1: rounds per side")
	fs.DurationVar(&p.P1Round, "p1-round", p.P1Round, "P1: length of a round")
	fs.IntVar(&p.P2Workers, "p2-workers", p.P2Workers, "P2: workers calling Hydra")
	fs.DurationVar(&p.P2Duration, "p2-duration", p.P2Duration, "P2: how long Hydra is called")
	clients := fs.String("p5-clients", joinInts(p.P5Clients), "P5: client levels, comma-separated")
	fs.DurationVar(&p.P5Warmup, "p5-warmup", p.P5Warmup, "P5: warm-up per level, not counted")
	fs.DurationVar(&p.P5Duration, "p5-duration", p.P5Duration, "P5: measured time per level")
	fs.DurationVar(&p.P5Think, "p5-think", p.P5Think, "P5: mean pause of a client between calls (0 = back to back)")
	fs.BoolVar(&p.GoBench, "gobench", p.GoBench, "run the hot paths' Go benchmarks (P2's cache side)")
	fs.StringVar(&p.GoBenchTime, "gobench-time", p.GoBenchTime, "go test -benchtime")
	fs.IntVar(&p.GoBenchCount, "gobench-count", p.GoBenchCount, "go test -count")
	fs.StringVar(&p.ProfileDir, "profile", "", "write CPU and heap profiles of the loaded MCP server here (it is then a benchmark build with the gate on)")
	fs.Func("server-env", "KEY=VALUE for the MCP servers the benchmark starts (with -profile, the loaded one too); repeatable", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return errors.New("want KEY=VALUE")
		}
		p.ServerEnv = append(p.ServerEnv, v)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if p.P5Clients, err = parseInts(*clients); err != nil {
		return fmt.Errorf("-p5-clients: %w", err)
	}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.ProfileDir != "" {
		if err := os.MkdirAll(p.ProfileDir, 0o755); err != nil {
			return err
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	database := "a private PostgreSQL cluster"
	opts := stack.Options{SeedDemo: true, MCPReplicas: 2, DatabaseURL: os.Getenv("DATABASE_URL"),
		Logger: log, ReadyTimeout: 2 * time.Minute}
	if opts.DatabaseURL != "" {
		database = "the DATABASE_URL server"
	}
	startCtx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	st, err := stack.Start(startCtx, opts)
	cancel()
	if err != nil {
		return err
	}
	defer st.Stop()

	type outcome struct {
		rep *bench.Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := bench.Run(ctx, st, p, log)
		done <- outcome{rep, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case err := <-st.Exited():
		return fmt.Errorf("a server of the stack exited during the run: %w", err)
	}
	if o.err != nil {
		return fmt.Errorf("%w (server logs in %s)", o.err, st.LogDir)
	}
	o.rep.Machine.Database = database
	var sb strings.Builder
	o.rep.Write(&sb)
	fmt.Fprint(stdout, "\n"+sb.String())
	if *out != "" {
		return os.WriteFile(*out, []byte(sb.String()), 0o644)
	}
	return nil
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var ns []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, errors.New("want numbers separated by commas, such as 50,200,500")
		}
		ns = append(ns, n)
	}
	return ns, nil
}

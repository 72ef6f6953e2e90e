package main

import (
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
)

func TestRunRefusesBadInvocations(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Setenv("DATABASE_URL", "")
	t.Setenv("AUTH_ISSUER", "http://localhost:3000/")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"bogus"}, []string{`unknown command "bogus"; use serve (default), migrate, seed-demo, healthcheck or config-vars`}},
		{[]string{"serve", "extra"}, []string{"unexpected arguments"}},
		// The configuration is checked before anything connects, and every
		// problem is reported.
		{nil, []string{"DATABASE_URL is required", "AUTH_ISSUER"}},
		{[]string{"migrate"}, []string{"DATABASE_URL is required"}},
		{[]string{"seed-demo"}, []string{"DATABASE_URL is required"}},
	}
	for _, tt := range tests {
		err := mcpServer.Run(t.Context(), tt.args, log, new(slog.LevelVar), io.Discard)
		for _, want := range tt.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("run(%q) = %v, want an error mentioning %q", tt.args, err, want)
			}
		}
	}
}

// seed-demo is refused in production before anything connects.
func TestSeedDemoRefusedInProduction(t *testing.T) {
	for k, v := range map[string]string{"MODE": "production", "MCP_RESOURCE_URL": "https://mcp.example.com/mcp",
		"AUTH_ISSUER": "https://auth.example.com", "DATABASE_URL": "postgres://app@127.0.0.1:1/app"} {
		t.Setenv(k, v)
	}
	err := mcpServer.Run(t.Context(), []string{"seed-demo"}, slog.New(slog.DiscardHandler), new(slog.LevelVar), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "seed-demo adds demo data; it runs only with MODE=development") {
		t.Errorf("seed-demo in production: %v", err)
	}
}

// The release build cannot switch authorization off: the code that does is
// compiled only into the benchmark build (benchbuild.go, build tag bench),
// which refuses MODE=production too (e2e TestBenchBuildRefusesProduction).
func TestReleaseBuildHasNoBenchmarkSwitches(t *testing.T) {
	if benchBuild != nil {
		t.Fatal("benchBuild is set in a build without the bench tag")
	}
}

func TestGCSettings(t *testing.T) {
	env := func(vars ...string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			for _, v := range vars {
				if name, value, _ := strings.Cut(v, "="); name == k {
					return value, true
				}
			}
			return "", false
		}
	}
	cgroup := func(content string) func(string) ([]byte, error) {
		return func(path string) ([]byte, error) {
			if path != cgroupMemoryMax || content == "" {
				return nil, fs.ErrNotExist
			}
			return []byte(content), nil
		}
	}
	tests := []struct {
		name   string
		env    []string
		cgroup string
		want   gcTuning
	}{
		{"no container", nil, "", gcTuning{percent: gcPercent}},
		{"unlimited container", nil, "max\n", gcTuning{percent: gcPercent}},
		{"256 MiB container", nil, "268435456\n", gcTuning{percent: gcPercent, limit: 192 << 20}},
		{"operator's GOGC", []string{"GOGC=150"}, "", gcTuning{}},
		{"operator's GOMEMLIMIT", []string{"GOMEMLIMIT=100MiB"}, "268435456\n", gcTuning{percent: gcPercent}},
		{"unreadable limit", nil, "lots", gcTuning{percent: gcPercent}},
	}
	for _, tt := range tests {
		if got := gcSettings(env(tt.env...), cgroup(tt.cgroup)); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

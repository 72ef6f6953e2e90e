package main

import (
	"io"
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
		{[]string{"bogus"}, []string{`unknown command "bogus"`}},
		{[]string{"serve", "extra"}, []string{"unexpected arguments"}},
		// The configuration is checked before anything connects, and every
		// problem is reported.
		{nil, []string{"DATABASE_URL is required", "AUTH_ISSUER"}},
		{[]string{"migrate"}, []string{"DATABASE_URL is required"}},
		{[]string{"seed-demo"}, []string{"DATABASE_URL is required"}},
	}
	for _, tt := range tests {
		err := run(log, tt.args)
		for _, want := range tt.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("run(%q) = %v, want an error mentioning %q", tt.args, err, want)
			}
		}
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

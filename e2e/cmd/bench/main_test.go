package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// Bad parameters are refused before anything starts.
func TestRunRefusesBadParameters(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-p5-clients", "50,lots"}, "want numbers separated by commas"},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
		{[]string{"-short", "-revokes", "10"}, "dances (6) must cover revokes (10"},
		{[]string{"-server-env", "NOEQUALS"}, "want KEY=VALUE"},
	} {
		err := run(log, tt.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error with %q", tt.args, err, tt.want)
		}
	}
}

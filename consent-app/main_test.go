package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestRunRefusesBadInvocations(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	production := map[string]string{
		"MODE": "production", "PUBLIC_URL": "https://auth.example.com", "MCP_RESOURCE_URL": "https://mcp.example.com/mcp",
		"DATABASE_URL": "postgres://app@127.0.0.1:1/app", "TOKEN_HOOK_API_KEY": strings.Repeat("k", 16),
		"COOKIE_SECRET": strings.Repeat("c", 32),
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"unknown command", nil, []string{"bogus"},
			[]string{`unknown command "bogus"; use serve (default), migrate, seed-demo, hygiene, healthcheck or config-vars`}},
		{"extra arguments", nil, []string{"serve", "extra"}, []string{`unexpected arguments after "serve"`}},
		// The configuration is checked before anything connects, and every
		// problem is reported.
		{"serve by default", map[string]string{"DATABASE_URL": ""}, nil, []string{"invalid configuration", "DATABASE_URL is required", "TOKEN_HOOK_API_KEY"}},
		{"migrate", map[string]string{"DATABASE_URL": ""}, []string{"migrate"}, []string{"DATABASE_URL is required"}},
		{"hygiene", map[string]string{"DATABASE_URL": ""}, []string{"hygiene"}, []string{"DATABASE_URL is required"}},
		{"seed-demo in production", production, []string{"seed-demo"}, []string{"seed-demo creates accounts with published passwords"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := consentApp.Run(t.Context(), tt.args, log, new(slog.LevelVar), io.Discard)
			for _, want := range tt.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("run(%q) = %v, want an error mentioning %q", tt.args, err, want)
				}
			}
		})
	}
}

func TestConfigVarsPrintsTheTable(t *testing.T) {
	var out bytes.Buffer
	t.Setenv("MODE", "bogus") // config-vars needs no valid configuration
	if err := consentApp.Run(t.Context(), []string{"config-vars"}, slog.New(slog.DiscardHandler), new(slog.LevelVar), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "| consent-app | `HYGIENE_INTERVAL` | `1h` |") {
		t.Errorf("config-vars printed:\n%s", out.String())
	}
}

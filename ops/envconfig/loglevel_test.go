package envconfig

import (
	"log/slog"
	"strings"
	"testing"
)

func TestParseLogLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{"debug", slog.LevelDebug, false},
		{"DEBUG", slog.LevelDebug, false},
		{"info", slog.LevelInfo, false},
		{"warn", slog.LevelWarn, false},
		{"error", slog.LevelError, false},
		{LogLevelVar.Default, slog.LevelInfo, false},
		{"trace", slog.LevelInfo, true},
		{"warning", slog.LevelInfo, true},
		{"", slog.LevelInfo, true},
	}
	for _, tt := range tests {
		got, err := ParseLogLevel(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLogLevel(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "debug, info, warn or error") {
			t.Errorf("ParseLogLevel(%q): the error %q does not name the accepted values", tt.in, err)
		}
	}
}

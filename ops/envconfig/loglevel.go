package envconfig

import (
	"fmt"
	"log/slog"
	"strings"
)

// LogLevelVar declares LOG_LEVEL for a service's table.
var LogLevelVar = Var{Name: "LOG_LEVEL", Default: "info",
	Meaning: "`debug`, `info`, `warn` or `error`; debug adds a line per request and per authorization decision, never with a token, code, password or secret"}

// ParseLogLevel checks a LOG_LEVEL value.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return slog.LevelInfo, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, got %q", s)
}

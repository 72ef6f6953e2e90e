// Package logtest holds a logger for tests that must log no warning.
package logtest

import (
	"context"
	"log/slog"
	"testing"
)

// Strict returns a logger that fails t on any warning or error, such as the
// one a missing translation logs.
func Strict(t testing.TB) *slog.Logger { return slog.New(strict{t}) }

type strict struct{ t testing.TB }

func (h strict) Enabled(context.Context, slog.Level) bool { return true }
func (h strict) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.t.Errorf("logged %s: %s", r.Level, r.Message)
	}
	return nil
}
func (h strict) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h strict) WithGroup(string) slog.Handler      { return h }

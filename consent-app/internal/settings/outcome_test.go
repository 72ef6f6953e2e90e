package settings

import (
	"context"
	"log/slog"
	"testing"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/locale"
)

// missingLog fails the test on the warning a missing translation logs.
type missingLog struct{ t *testing.T }

func (h missingLog) Enabled(context.Context, slog.Level) bool { return true }
func (h missingLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		var attrs []any
		r.Attrs(func(a slog.Attr) bool { attrs = append(attrs, a); return true })
		h.t.Errorf("logged %s: %s %v", r.Level, r.Message, attrs)
	}
	return nil
}
func (h missingLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h missingLog) WithGroup(string) slog.Handler      { return h }

// TestEveryOutcomeIsTranslated: the activity view has a text for every audit
// outcome the MCP server records, in every language.
func TestEveryOutcomeIsTranslated(t *testing.T) {
	cat := locale.MustNew(locale.Options{Log: slog.New(missingLog{t})})
	for _, tag := range cat.Languages() {
		l := cat.Localizer(tag)
		for _, o := range contract.Outcomes() {
			if id := OutcomeMessage(o); l.T(id) == id {
				t.Errorf("%s: no text for outcome %q (%s)", tag, o, id)
			}
		}
	}
}

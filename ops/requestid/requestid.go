// Package requestid gives every request an id: taken from a well-formed
// incoming X-Request-Id (a proxy's), or made here. It is echoed in the
// response and added to every log line written with the request's context.
package requestid

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"regexp"
)

// Header carries the id.
const Header = "X-Request-Id"

type key struct{}

// wellFormed accepts the ids common proxies send and nothing that could
// forge a log line.
var wellFormed = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Middleware sets the id on the request's context and the response.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !wellFormed.MatchString(id) {
			id = rand.Text()
		}
		w.Header().Set(Header, id)
		next.ServeHTTP(w, r.WithContext(With(r.Context(), id)))
	})
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// From returns the request id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}

// LogHandler adds request_id to records logged with a context that has one.
type LogHandler struct{ slog.Handler }

// NewLogHandler wraps h.
func NewLogHandler(h slog.Handler) *LogHandler { return &LogHandler{h} }

func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := From(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &LogHandler{h.Handler.WithAttrs(attrs)}
}

func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{h.Handler.WithGroup(name)}
}

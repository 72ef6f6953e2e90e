package gate

import (
	"context"
	"net/http"
	"sync/atomic"
)

type outageKey struct{}

// outage is one request's record of a failed dependency.
type outage struct{ failed atomic.Bool }

// ReportOutage records that serving the request of ctx needed a dependency
// that failed, such as the database. The gate then answers 503 with
// Retry-After in place of what the MCP layer writes, so that a client never
// mistakes an outage for a tool result. Outside the gate (for example with
// in-memory transports) it does nothing.
func ReportOutage(ctx context.Context) {
	if o, ok := ctx.Value(outageKey{}).(*outage); ok {
		o.failed.Store(true)
	}
}

// OutageReported reports whether ReportOutage was called for the request of
// ctx: its answer will be a 503, whatever the MCP layer returns.
func OutageReported(ctx context.Context) bool {
	o, ok := ctx.Value(outageKey{}).(*outage)
	return ok && o.failed.Load()
}

// outageWriter passes the MCP layer's response through unless an outage was
// reported before its first byte; then it sends the 503 instead and drops
// the rest. This relies on the MCP handler answering with plain JSON, which
// it writes only once the tool has returned (server.Handler sets
// JSONResponse).
type outageWriter struct {
	http.ResponseWriter
	outage  *outage
	decided bool
	dropped bool
	replace func(http.ResponseWriter)
}

func (w *outageWriter) decide() {
	if w.decided {
		return
	}
	w.decided = true
	if w.outage.failed.Load() {
		w.dropped = true
		w.replace(w.ResponseWriter)
	}
}

func (w *outageWriter) WriteHeader(status int) {
	w.decide()
	if !w.dropped {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *outageWriter) Write(b []byte) (int, error) {
	w.decide()
	if w.dropped {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Flush goes through http.ResponseController, which follows Unwrap: the
// writer below may flush only by unwrapping (server.Handler's statusWriter),
// and a type assertion on http.Flusher would silently hold a streamed
// answer (a subscriptions/listen stream) until the handler returned.
func (w *outageWriter) Flush() {
	w.decide()
	if !w.dropped {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *outageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Package audit records every MCP tool call: when, who, in which team,
// through which client and connection, which tool, how it went and how long
// it took. Never the arguments, the results or the token.
//
// Recording never waits on the database: calls are queued in memory and a
// background loop writes them in batches (store.WriteAudit), which also
// moves each connection's "last used" forward. When the queue is full —
// the database has been down for a while — further events are dropped and
// counted rather than slowing tool calls down. A retention loop deletes
// events past their age.
package audit

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

// Writer stores batches of events; *store.Store is one.
type Writer interface {
	WriteAudit(ctx context.Context, events []store.AuditEvent) error
}

// Options configure a Recorder; zero fields take the defaults.
type Options struct {
	// QueueSize bounds the events waiting to be written; default 10000.
	QueueSize int
	// BatchSize is the most events one write takes; default 500.
	BatchSize int
	// FlushInterval is the longest an event waits to be written, and so how
	// stale "last used" may be; default 1s.
	FlushInterval time.Duration
	// OnDrop is told how many events were dropped for a full queue or a
	// failed write; nil = nobody.
	OnDrop func(n int)
	// Now returns the current time; nil = time.Now.
	Now func() time.Time
}

// Recorder queues events and writes them in batches (see Run).
type Recorder struct {
	w     Writer
	log   *slog.Logger
	opts  Options
	queue chan store.AuditEvent
}

// New returns a Recorder writing to w. Run must be running for events to be
// written.
func New(w Writer, log *slog.Logger, opts Options) *Recorder {
	if opts.QueueSize == 0 {
		opts.QueueSize = 10_000
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 500
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Recorder{w: w, log: log, opts: opts, queue: make(chan store.AuditEvent, opts.QueueSize)}
}

// Record queues e without waiting; a full queue drops it.
func (r *Recorder) Record(e store.AuditEvent) {
	select {
	case r.queue <- e:
	default:
		r.drop(1)
	}
}

func (r *Recorder) drop(n int) {
	if r.opts.OnDrop != nil {
		r.opts.OnDrop(n)
	}
}

// writeTimeout bounds one batch write.
const writeTimeout = 10 * time.Second

// Run writes queued events until ctx ends, then writes what is still queued
// (for at most writeTimeout) and returns. A failed write is retried with the
// next batch while the queue has room for it.
func (r *Recorder) Run(ctx context.Context) {
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	var batch []store.AuditEvent
	for {
		select {
		case e := <-r.queue:
			batch = append(batch, e)
			if len(batch) < r.opts.BatchSize {
				continue
			}
		case <-tick.C:
		case <-ctx.Done():
			r.drain(&batch)
			r.write(context.WithoutCancel(ctx), &batch)
			return
		}
		r.write(ctx, &batch)
	}
}

// drain moves everything queued into batch.
func (r *Recorder) drain(batch *[]store.AuditEvent) {
	for {
		select {
		case e := <-r.queue:
			*batch = append(*batch, e)
		default:
			return
		}
	}
}

// write stores batch and empties it. On failure the events stay for the
// next try, unless keeping them would exceed the queue size: then they are
// dropped, oldest first.
func (r *Recorder) write(ctx context.Context, batch *[]store.AuditEvent) {
	if len(*batch) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	err := r.w.WriteAudit(wctx, *batch)
	cancel()
	switch {
	case err == nil:
		r.log.DebugContext(ctx, "audit events written", "events", len(*batch))
		*batch = (*batch)[:0]
	case errors.Is(err, store.ErrNotFound):
		// A malformed id cannot become valid: drop the batch.
		r.log.ErrorContext(ctx, "audit events unwritable; dropped", "events", len(*batch), "err", err)
		r.drop(len(*batch))
		*batch = (*batch)[:0]
	default:
		r.log.WarnContext(ctx, "write audit events; retrying with the next batch", "events", len(*batch), "err", err)
		if over := len(*batch) - r.opts.QueueSize; over > 0 {
			r.drop(over)
			*batch = append((*batch)[:0], (*batch)[over:]...)
		}
	}
}

// outcome names how a tool call went: ok; tool_error when the tool answered
// with an error result; error when the call failed (unknown tool, invalid
// arguments); unavailable when the database failed under it (the client got
// a 503).
func outcome(ctx context.Context, res mcp.Result, err error) contract.Outcome {
	switch r, isCall := res.(*mcp.CallToolResult); {
	case gate.OutageReported(ctx):
		return contract.OutcomeUnavailable
	case err != nil:
		return contract.OutcomeError
	case isCall && r.IsError:
		return contract.OutcomeToolError
	}
	return contract.OutcomeOK
}

// toolName is the name recorded for a called tool: the catalog's, or
// "unknown" for a name the server does not have, which a client made up.
func toolName(name string) string {
	if _, known := catalog.ScopeForTool(name); known {
		return name
	}
	return "unknown"
}

// Middleware records every tools/call the gate let through (as MCP
// middleware, tools.Options.Middleware).
func (r *Recorder) Middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		p, isCall := req.GetParams().(*mcp.CallToolParamsRaw)
		id, ok := gate.IdentityFrom(ctx)
		if method != "tools/call" || !isCall || !ok {
			return next(ctx, method, req)
		}
		start := r.opts.Now()
		res, err := next(ctx, method, req)
		r.Record(event(id, toolName(p.Name), outcome(ctx, res, err), start, r.opts.Now().Sub(start)))
		return res, err
	}
}

// Denied records calls the gate refused for a missing scope
// (gate.Options.OnInsufficientScope).
func (r *Recorder) Denied(_ context.Context, id *gate.Identity, tools []string) {
	now := r.opts.Now()
	for _, t := range tools {
		r.Record(event(id, toolName(t), contract.OutcomeDenied, now, 0))
	}
}

func event(id *gate.Identity, tool string, outcome contract.Outcome, at time.Time, d time.Duration) store.AuditEvent {
	return store.AuditEvent{
		At: at, UserID: id.UserID, TeamID: id.TeamID, ClientID: id.ClientID, ConnectionID: id.ConnectionID,
		Tool: tool, Outcome: outcome, Duration: d,
	}
}

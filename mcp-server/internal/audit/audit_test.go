package audit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/mcp-oauth/mcp-server/internal/store/storetest"
)

// writer records the batches it is given; fail makes writes fail.
type writer struct {
	mu      sync.Mutex
	batches [][]store.AuditEvent
	fail    error
	wrote   chan struct{}
}

func newWriter() *writer { return &writer{wrote: make(chan struct{}, 100)} }

// flushingEvery runs a Recorder that flushes to a new writer every interval,
// until the test ends.
func flushingEvery(t *testing.T, interval time.Duration) (*writer, *Recorder) {
	w := newWriter()
	r := New(w, storetest.Discard, Options{FlushInterval: interval})
	go r.Run(t.Context())
	return w, r
}

func (w *writer) WriteAudit(_ context.Context, events []store.AuditEvent) error {
	w.mu.Lock()
	defer func() { w.mu.Unlock(); w.wrote <- struct{}{} }()
	if w.fail != nil {
		return w.fail
	}
	w.batches = append(w.batches, slices.Clone(events))
	return nil
}

func (w *writer) events() []store.AuditEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	var all []store.AuditEvent
	for _, b := range w.batches {
		all = append(all, b...)
	}
	return all
}

func (w *writer) setFail(err error) {
	w.mu.Lock()
	w.fail = err
	w.mu.Unlock()
}

// The recorder's tests run in a synctest bubble: time is fake, and
// synctest.Wait returns once the recorder (and the in-memory MCP session)
// has done all it can without time passing, so each assertion is about an
// exact moment rather than a poll or a sleep.

func ev(tool string) store.AuditEvent {
	return store.AuditEvent{At: time.Now(), UserID: "u", TeamID: "t", ClientID: "c", ConnectionID: "k", Tool: tool, Outcome: "ok"}
}

func TestRecorderBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWriter()
		r := New(w, storetest.Discard, Options{BatchSize: 3, FlushInterval: time.Hour})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		for range 7 {
			r.Record(ev("whoami"))
		}
		// Two full batches go at once, with no time passing; the seventh
		// waits for the interval or the shutdown.
		synctest.Wait()
		if n := len(w.events()); n != 6 {
			t.Errorf("%d events written at once, want 6: two full batches", n)
		}
		cancel()
		<-done
		if n := len(w.events()); n != 7 {
			t.Errorf("after shutdown %d events written, want 7: shutdown writes what is queued", n)
		}
		for _, b := range w.batches {
			if len(b) > 3 {
				t.Errorf("batch of %d, want at most 3", len(b))
			}
		}
	})
}

func TestRecorderFlushesOnInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 20 * time.Millisecond
		w, r := flushingEvery(t, interval)
		r.Record(ev("whoami"))
		time.Sleep(interval - time.Nanosecond)
		synctest.Wait()
		if n := len(w.events()); n != 0 {
			t.Errorf("%d events written before the interval, want none", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := len(w.events()); n != 1 {
			t.Errorf("%d events written at the interval, want 1", n)
		}
	})
}

func TestRecorderNeverBlocks(t *testing.T) {
	w := newWriter()
	var dropped int
	r := New(w, storetest.Discard, Options{QueueSize: 2, OnDrop: func(n int) { dropped += n }})
	// Run is not running: the queue fills and the rest is dropped, at once.
	start := time.Now()
	for range 5 {
		r.Record(ev("whoami"))
	}
	if time.Since(start) > time.Second || dropped != 3 {
		t.Errorf("dropped %d of 5 with a queue of 2 in %s, want 3 without waiting", dropped, time.Since(start))
	}
}

func TestRecorderRetriesAFailedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWriter()
		w.setFail(errors.New("database down"))
		var mu sync.Mutex
		dropped := 0
		const interval = 10 * time.Millisecond
		r := New(w, storetest.Discard, Options{FlushInterval: interval, QueueSize: 4, OnDrop: func(n int) { mu.Lock(); dropped += n; mu.Unlock() }})
		go r.Run(t.Context())
		for range 3 {
			r.Record(ev("whoami"))
		}
		<-w.wrote // failed
		<-w.wrote // failed again
		w.setFail(nil)
		time.Sleep(interval) // the next tick retries
		synctest.Wait()
		if n := len(w.events()); n != 3 {
			t.Errorf("%d events written by the retry, want 3", n)
		}

		// An unwritable batch (a malformed id) is dropped, not retried forever.
		w.setFail(store.ErrNotFound)
		r.Record(ev("whoami"))
		time.Sleep(interval)
		synctest.Wait()
		mu.Lock()
		if dropped != 1 {
			t.Errorf("%d events dropped, want the unwritable one", dropped)
		}
		mu.Unlock()
		writes := len(w.wrote)
		time.Sleep(10 * interval)
		synctest.Wait()
		if n := len(w.wrote) - writes; n != 0 {
			t.Errorf("%d more writes after the drop, want none: the dropped batch is not retried", n)
		}
	})
}

// connect serves tools that succeed, fail or are refused in memory, behind
// the recorder's middleware, with identity id in every call's context.
func connect(t *testing.T, r *Recorder, id *gate.Identity) *mcp.ClientSession {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "audit-test"}, nil)
	srv.AddReceivingMiddleware(r.Middleware)
	type in struct {
		N int `json:"n" jsonschema:"a number"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "whoami"}, func(context.Context, *mcp.CallToolRequest, in) (*mcp.CallToolResult, any, error) {
		time.Sleep(2 * time.Millisecond)
		return nil, map[string]any{"secret": "result never recorded"}, nil
	})
	mcp.AddTool(srv, &mcp.Tool{Name: "list_invoices"}, func(context.Context, *mcp.CallToolRequest, in) (*mcp.CallToolResult, any, error) {
		return nil, nil, errors.New("tool failed")
	})
	ctx := context.Background()
	if id != nil {
		ctx = gate.WithIdentity(ctx, id)
	}
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestMiddlewareRecordsToolCalls(t *testing.T) {
	synctest.Test(t, testMiddlewareRecordsToolCalls)
}

func testMiddlewareRecordsToolCalls(t *testing.T) {
	const interval = 5 * time.Millisecond
	w, r := flushingEvery(t, interval)
	id := &gate.Identity{UserID: "user-1", TeamID: "team-1", ClientID: "client-1", ConnectionID: "conn-1", Scopes: []string{"invoices:read"}}
	cs := connect(t, r, id)
	ctx := t.Context()
	cs.ListTools(ctx, nil) // not a tool call: not recorded
	cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{"n": 1}})
	cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_invoices", Arguments: map[string]any{"n": 1}})
	cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{"n": "not a number"}})
	cs.CallTool(ctx, &mcp.CallToolParams{Name: "<script>made-up", Arguments: map[string]any{}})
	r.Denied(ctx, id, []string{"create_invoice"})

	time.Sleep(interval) // one flush interval writes them all
	synctest.Wait()
	if n := len(w.events()); n != 5 {
		t.Fatalf("%d events written after a flush interval, want 5", n)
	}
	type row struct {
		tool    string
		outcome contract.Outcome
	}
	var got []row
	for _, e := range w.events() {
		got = append(got, row{e.Tool, e.Outcome})
		if e.UserID != id.UserID || e.TeamID != id.TeamID || e.ClientID != id.ClientID || e.ConnectionID != id.ConnectionID || e.At.IsZero() {
			t.Errorf("event %+v does not carry the caller", e)
		}
	}
	want := []row{{"whoami", "ok"}, {"list_invoices", "tool_error"}, {"whoami", "tool_error"}, {"unknown", "error"}, {"create_invoice", "denied"}}
	if !slices.Equal(got, want) {
		t.Errorf("recorded %v, want %v", got, want)
	}
	if d := w.events()[0].Duration; d != 2*time.Millisecond {
		t.Errorf("duration %s, want the tool's time, 2ms", d)
	}
}

// TestMiddlewareNeedsTheGate: a call without a verified caller (no
// gate.Identity in its context) is served but never recorded, however many
// flush intervals pass.
func TestMiddlewareNeedsTheGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 5 * time.Millisecond
		w, r := flushingEvery(t, interval)
		cs := connect(t, r, nil)
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{"n": 1}})
		if err != nil || res.IsError {
			t.Fatalf("the call was not served: %v, %+v", err, res)
		}
		for range 3 {
			time.Sleep(interval)
			synctest.Wait() // the recorder has ticked, with nothing to write
		}
		if n := len(w.events()); n != 0 {
			t.Errorf("%d events for a call without a verified caller, want none", n)
		}
		if n := len(w.wrote); n != 0 {
			t.Errorf("%d writes for a call without a verified caller, want none", n)
		}
	})
}

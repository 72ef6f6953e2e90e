// Package tools defines the MCP server and its tools. Each tool reads the
// caller from the context the gate filled and scopes every query to the
// caller's team; the team never comes from tool arguments.
package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Store is the data the tools read and write. Every team method fences its
// queries to teamID.
type Store interface {
	User(ctx context.Context, id string) (store.User, error)
	Team(ctx context.Context, id string) (store.Team, error)
	ListInvoices(ctx context.Context, teamID string, q store.InvoiceQuery) (store.InvoicePage, error)
	Invoice(ctx context.Context, teamID, ref string) (store.Invoice, error)
	CreateInvoice(ctx context.Context, teamID string, n store.NewInvoice) (store.Invoice, error)
	ListEstimates(ctx context.Context, teamID string, q store.EstimateQuery) (store.EstimatePage, error)
	ListTransactions(ctx context.Context, teamID string, q store.TransactionQuery) (store.TransactionPage, error)
	CreateTransaction(ctx context.Context, teamID string, n store.NewTransaction) (store.Transaction, error)
}

// Options configure NewServer.
type Options struct {
	Store   Store
	Logger  *slog.Logger // nil = slog.Default()
	Version string       // the server's version in its implementation info
	// Now returns the current time, for default dates; nil = time.Now.
	Now func() time.Time
	// Middleware wraps every MCP method call (metrics, audit); applied
	// outermost first.
	Middleware []mcp.Middleware
}

// callTimeout bounds one tool call, so that a hung database turns into a 503
// rather than a hung request.
const callTimeout = 10 * time.Second

// NewServer returns the MCP server with every tool registered. The same
// server serves all requests: it holds no per-caller state.
func NewServer(opts Options) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcp-oauth-invoices", Title: "Invoices", Version: opts.Version}, &mcp.ServerOptions{
		Instructions: "Tools for one team's invoicing and accounting data. The team is fixed by the connection the " +
			"user approved; call whoami to see which user, team and scopes this connection has. Amounts are integers " +
			"in the currency's minor unit (cents). Tools that change data say so; call them only when the user asked " +
			"for that change.",
		// No Logger: in stateless mode the SDK would log a session start and
		// end at info level for every request. Tool failures are logged here.
		//
		// What the SDK answers, declared as it is: it serves prompts/list and
		// the resource lists (empty) whatever is declared, and a server must
		// declare what it serves (SEP-2575's server/discover). No list ever
		// changes, so no listChanged: a client would otherwise hold a
		// subscriptions/listen stream open for nothing. Logging stays the
		// SDK's default.
		Capabilities: &mcp.ServerCapabilities{
			Logging:   &mcp.LoggingCapabilities{},
			Tools:     &mcp.ToolCapabilities{},
			Prompts:   &mcp.PromptCapabilities{},
			Resources: &mcp.ResourceCapabilities{},
		},
	})
	s.AddReceivingMiddleware(explainArgumentErrors)
	s.AddReceivingMiddleware(opts.Middleware...)
	t := &tools{store: opts.Store, log: opts.Logger, now: opts.Now}
	if t.log == nil {
		t.log = slog.Default()
	}
	if t.now == nil {
		t.now = time.Now
	}
	addTool(s, &mcp.Tool{
		Name:  "whoami",
		Title: "Who am I",
		Description: "Returns the user, team, OAuth client and connection behind this session, " +
			"and the scopes the user granted. Needs no scope.",
		Annotations: readOnly("Who am I"),
	}, t.whoami)
	addInvoiceTools(s, t)
	addTransactionTools(s, t)
	return s
}

type tools struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

func readOnly(title string) *mcp.ToolAnnotations {
	closed := false
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &closed}
}

// additive is for tools that add a record and change nothing that exists:
// not read-only, not destructive, and not idempotent (a repeated call adds
// another record).
func additive(title string) *mcp.ToolAnnotations {
	no := false
	return &mcp.ToolAnnotations{Title: title, DestructiveHint: &no, OpenWorldHint: &no}
}

// handler is a tool body that receives the verified caller.
type handler[In, Out any] func(ctx context.Context, id *gate.Identity, in In) (Out, error)

// addTool registers h under t.Name after checking the catalog knows the tool,
// and re-checks the scope on every call. The gate already refused calls
// without the scope; this second check keeps a tool safe even if the gate's
// reading of a request and the SDK's ever differ.
func addTool[In, Out any](s *mcp.Server, t *mcp.Tool, h handler[In, Out]) {
	scope, known := catalog.ScopeForTool(t.Name)
	if !known {
		panic(fmt.Sprintf("tools: %q is not in the scope catalog; add it there first", t.Name))
	}
	mcp.AddTool(s, t, func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
		var zero Out
		id, ok := gate.IdentityFrom(ctx)
		if !ok {
			return nil, zero, errors.New("unauthenticated: this server must be reached through its authorization gate")
		}
		if scope != "" && !id.HasScope(scope) {
			return nil, zero, fmt.Errorf("this tool needs the %s scope; re-authorize asking for it", scope)
		}
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		out, err := h(ctx, id, in)
		return nil, out, err
	})
}

// inputSchema infers In's schema and lets edit add what struct tags cannot
// say (enums, bounds, patterns), which the SDK then enforces before the
// handler runs. No edit may declare a default: go-sdk v1.8.0 panics applying
// schema defaults to a call that sends "arguments": null. Handlers apply
// defaults instead.
func inputSchema[In any](edit func(props map[string]*jsonschema.Schema)) *jsonschema.Schema {
	s, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("tools: input schema of %T: %v", *new(In), err))
	}
	edit(s.Properties)
	return s
}

// convert maps items to a tool's output type. The result is never nil, so an
// empty list is [] in the output, not null.
func convert[From, To any](items []From, f func(From) To) []To {
	out := make([]To, 0, len(items))
	for _, item := range items {
		out = append(out, f(item))
	}
	return out
}

func enum(values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

func bounds(s *jsonschema.Schema, lo, hi float64) {
	s.Minimum, s.Maximum = &lo, &hi
}

func length(s *jsonschema.Schema, lo, hi int) {
	s.MinLength, s.MaxLength = &lo, &hi
}

// errUnavailable is what a tool returns when the database fails. The gate
// replaces the whole response with a 503 (gate.ReportOutage); the error
// stays for callers without the gate.
var errUnavailable = errors.New("the data is temporarily unavailable; try again in a few seconds")

// errUnstorableText answers an argument the database cannot hold: the
// caller's mistake, not an outage.
var errUnstorableText = errors.New("an argument contains a NUL character, which no record can hold; remove it and call again")

func (t *tools) fail(ctx context.Context, tool string, err error) error {
	if store.IsUnstorableText(err) {
		return errUnstorableText
	}
	t.log.ErrorContext(ctx, "tool failed", "tool", tool, "err", err)
	gate.ReportOutage(ctx)
	return errUnavailable
}

// lookupFailed is fail for reads of the connection's own user or team, which
// can only be missing if the consent app deleted them after the token was
// issued.
func (t *tools) lookupFailed(ctx context.Context, tool string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		t.log.WarnContext(ctx, "connection points at a missing row", "tool", tool, "err", err)
		return errors.New("the user or team of this connection no longer exists; reconnect the client")
	}
	return t.fail(ctx, tool, err)
}

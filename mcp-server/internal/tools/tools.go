// Package tools defines the MCP server and its tools. Each tool reads the
// caller from the context the gate filled and scopes every query to the
// caller's team; the team never comes from tool arguments.
package tools

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/mcp-server/internal/gate"
	"github.com/mcp-oauth/mcp-server/internal/store"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Store is the data the tools read.
type Store interface {
	User(ctx context.Context, id string) (store.User, error)
	Team(ctx context.Context, id string) (store.Team, error)
	ListInvoices(ctx context.Context, teamID string, q store.InvoiceQuery) (store.InvoicePage, error)
}

// NewServer returns the MCP server with every tool registered. The same
// server serves all requests: it holds no per-caller state.
func NewServer(st Store, log *slog.Logger, version string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcp-oauth-invoices", Title: "Invoices", Version: version}, &mcp.ServerOptions{
		Instructions: "Tools for one team's invoicing data. The team is fixed by the connection the user approved; " +
			"call whoami to see which user, team and scopes this connection has.",
		// No Logger: in stateless mode the SDK would log a session start and
		// end at info level for every request. Tool failures are logged here.
	})
	t := &tools{store: st, log: log}
	addTool(s, &mcp.Tool{
		Name:  "whoami",
		Title: "Who am I",
		Description: "Returns the user, team, OAuth client and connection behind this session, " +
			"and the scopes the user granted. Needs no scope.",
		Annotations: readOnly("Who am I"),
	}, t.whoami)
	addTool(s, &mcp.Tool{
		Name:  "list_invoices",
		Title: "List invoices",
		Description: "Lists the team's invoices, newest first, with number, customer, amount (in cents, with " +
			"currency), status and issue/due dates. Filter by status; page with limit and the returned next_cursor.",
		InputSchema: listInvoicesSchema(),
		Annotations: readOnly("List invoices"),
	}, t.listInvoices)
	return s
}

type tools struct {
	store Store
	log   *slog.Logger
}

func readOnly(title string) *mcp.ToolAnnotations {
	closed := false
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &closed}
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
		out, err := h(ctx, id, in)
		return nil, out, err
	})
}

// errUnavailable is what a tool tells the model when the database fails; the
// detail goes to the log only.
var errUnavailable = errors.New("the data is temporarily unavailable; try again in a few seconds")

func (t *tools) fail(ctx context.Context, tool string, err error) error {
	t.log.ErrorContext(ctx, "tool failed", "tool", tool, "error", err)
	return errUnavailable
}

// lookupFailed is fail for reads of the connection's own user or team, which
// can only be missing if the consent app deleted them after the token was
// issued.
func (t *tools) lookupFailed(ctx context.Context, tool string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		t.log.WarnContext(ctx, "connection points at a missing row", "tool", tool, "error", err)
		return errors.New("the user or team of this connection no longer exists; reconnect the client")
	}
	return t.fail(ctx, tool, err)
}

package settings

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/store"
)

// GrantPage is the data of settings-grant.html: scopes to add to one of the
// viewer's connections (step-up by link, docs/known-clients.md).
type GrantPage struct {
	Frame
	Heading, Text string
	// Scopes are the catalog scopes the connection would gain; none means
	// there is nothing to add, and the page says so.
	Scopes    []GrantScope
	Action    string
	CSRFToken string
}

// GrantScope is a scope as the grant page shows it, in its language.
type GrantScope struct {
	Name, Label, Description string
}

// ConfirmGrant handles GET /settings/connections/:id/grant?scope=…: the
// link the MCP server gives a client that cannot step up by itself.
func (h *Handler) ConfirmGrant(c *gin.Context) {
	v, conn, add, ok := h.grantable(c, c.QueryArray("scope"))
	if !ok {
		return
	}
	args := []any{"Client", conn.ClientName, "Team", conn.TeamName}
	p := GrantPage{Frame: h.frame(c, v), Heading: v.l.T("settings.grant.heading", args...)}
	if len(add) == 0 {
		p.Text = v.l.T("settings.grant.nothing", args...)
		h.render(c, v, http.StatusOK, "settings-grant.html", "settings.grant.title", p)
		return
	}
	p.Text, p.Action, p.CSRFToken = v.l.T("settings.grant.text", args...), grantPath(conn.ID), h.token(c, v, "grant:"+conn.ID)
	for _, s := range add {
		p.Scopes = append(p.Scopes, GrantScope{Name: s, Label: v.l.ScopeLabel(s), Description: v.l.ScopeDescription(s)})
	}
	h.render(c, v, http.StatusOK, "settings-grant.html", "settings.grant.title", p)
}

// Grant handles POST /settings/connections/:id/grant: adds the posted
// scopes to the connection. The MCP server drops its cached copy of the
// connection when the change commits, so the token the app holds has them
// on its next call.
func (h *Handler) Grant(c *gin.Context) {
	v, conn, add, ok := h.grantable(c, c.PostFormArray("scope"))
	if !ok || !h.checkForm(c, v, "grant:"+conn.ID) {
		return
	}
	if len(add) > 0 {
		scopes, err := h.Store.GrantScopes(c, v.user.ID, conn.ID, add)
		if !h.found(c, v, "grant scopes", err) {
			return
		}
		h.Log.InfoContext(c, "scopes granted", "user_id", v.user.ID, "connection_id", conn.ID, "team_id", conn.TeamID,
			"client_id", conn.ClientID, "added", add, "scopes", scopes)
	}
	c.Redirect(http.StatusSeeOther, Home+"?done=granted")
}

// grantable signs the viewer in and loads the connection of the :id
// parameter with the catalog scopes of requested (space-separated values,
// as OAuth writes scopes) it lacks. Only the connection's own user may widen
// it — a team admin sees it but gets 404 — and a revoked one cannot be.
func (h *Handler) grantable(c *gin.Context, requested []string) (*viewer, store.ConnectionView, []string, bool) {
	v, conn, ok := h.viewedConnection(c)
	if !ok {
		return nil, conn, nil, false
	}
	if conn.UserID != v.user.ID {
		h.notFound(c, v)
		return nil, conn, nil, false
	}
	if conn.RevokedAt != nil {
		h.problem(c, v, http.StatusConflict, "settings.grant.revoked.title", "settings.grant.revoked.message")
		return nil, conn, nil, false
	}
	add := slices.DeleteFunc(catalog.Known(strings.Fields(strings.Join(requested, " "))), func(s string) bool {
		return slices.Contains(conn.Scopes, s)
	})
	return v, conn, add, true
}

func grantPath(connID string) string { return Home + "/connections/" + connID + "/grant" }

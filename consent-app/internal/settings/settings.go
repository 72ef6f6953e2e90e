// Package settings is the settings pages, where people manage what they have
// connected: their own connections ("My connections": each app, the team it
// may use, what it may do, when it was created and last used, its activity),
// revoking one or all of them; and, for the owners and admins of a team,
// every connection into the team and its members, any of which they may
// revoke or remove.
//
// The pages sign people in as a first-party OpenID Connect client of our own
// Hydra (see signin.go and package firstparty), through the same sign-in
// page as the apps. Who may see or change what is decided on the server,
// for every request: an id that is not the person's to see is not found
// (404), exactly like one that does not exist.
package settings

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/membership"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// Home is the settings pages' root: My connections.
const Home = "/settings"

// activityLimit is how many tool calls a connection's page lists.
const activityLimit = 50

// Store is the data the settings pages read. Every query that takes a
// viewer applies the visibility rule itself.
type Store interface {
	UserByID(ctx context.Context, id string) (store.User, error)
	TeamsOfUser(ctx context.Context, userID string) ([]store.Team, error)
	UserConnections(ctx context.Context, userID string) ([]store.ConnectionView, error)
	TeamConnections(ctx context.Context, viewerID, teamID string) ([]store.ConnectionView, error)
	VisibleConnection(ctx context.Context, viewerID, connID string) (store.ConnectionView, error)
	TeamAdministeredBy(ctx context.Context, userID, teamID string) (store.Team, error)
	TeamOfMember(ctx context.Context, userID, teamID string) (store.Team, error)
	Members(ctx context.Context, teamID string) ([]store.Member, error)
	Activity(ctx context.Context, connID string, limit int) ([]store.ActivityEvent, error)
	GrantScopes(ctx context.Context, userID, connID string, scopes []string) ([]string, error)
}

// Deps are the handler's collaborators.
type Deps struct {
	Store   Store
	Revoker *revocation.Revoker
	CSRF    *csrf.Protector
	Locale  *locale.Catalog
	Log     *slog.Logger
	SignIn  SignInConfig
	// CookieSecret keys the settings cookies (COOKIE_SECRET).
	CookieSecret  string
	SecureCookies bool
	// Now returns the current time; nil = time.Now.
	Now func() time.Time
}

// Handler serves the settings pages.
type Handler struct {
	Deps
	signIn  *signIn
	sealer  sealer
	cookies cookies
}

// New returns the settings handler. The URLs in d.SignIn must be valid
// (config.Validate checks them).
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Handler{Deps: d, signIn: newSignIn(d.SignIn), sealer: newSealer(d.CookieSecret), cookies: cookies{secure: d.SecureCookies}}
}

func (h *Handler) now() time.Time { return h.Now() }

// Mount adds the settings routes to r.
func (h *Handler) Mount(r gin.IRouter) {
	r.GET(Home, h.Connections)
	r.GET(Home+"/login", h.Login)
	r.GET(Home+"/callback", h.Callback)
	r.POST(Home+"/signout", h.SignOut)
	r.GET(Home+"/connections/:id", h.Connection)
	r.GET(Home+"/connections/:id/revoke", h.ConfirmRevoke)
	r.POST(Home+"/connections/:id/revoke", h.Revoke)
	r.GET(Home+"/connections/:id/grant", h.ConfirmGrant)
	r.POST(Home+"/connections/:id/grant", h.Grant)
	r.GET(Home+"/revoke-all", h.ConfirmRevokeAll)
	r.POST(Home+"/revoke-all", h.RevokeAll)
	r.GET(Home+"/teams/:team", h.Team)
	r.GET(Home+"/teams/:team/members/:user/remove", h.ConfirmRemove)
	r.POST(Home+"/teams/:team/members/:user/remove", h.Remove)
	r.GET(Home+"/teams/:team/leave", h.ConfirmLeave)
	r.POST(Home+"/teams/:team/leave", h.Leave)
}

// viewer is the signed-in person a page is for.
type viewer struct {
	user  store.User
	teams []store.Team
	l     *locale.Localizer
}

// viewer returns the signed-in person, or answers the request itself: a
// person who is not signed in goes to the sign-in (and comes back to the
// page after it, for a GET).
func (h *Handler) viewer(c *gin.Context) (*viewer, bool) {
	l := h.Locale.For(c.Writer, c.Request, "")
	id, ok := h.sessionUser(c)
	if ok {
		user, err := h.Store.UserByID(c, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			h.cookies.clear(c.Writer, sessionCookie)
		case err != nil:
			h.unavailable(c, l, "load user", err)
			return nil, false
		default:
			teams, err := h.Store.TeamsOfUser(c, user.ID)
			if err != nil {
				h.unavailable(c, l, "list teams", err)
				return nil, false
			}
			return &viewer{user: user, teams: teams, l: l}, true
		}
	}
	next := Home
	if c.Request.Method == http.MethodGet {
		next = c.Request.URL.RequestURI()
	}
	c.Redirect(http.StatusSeeOther, Home+"/login?next="+url.QueryEscape(next))
	return nil, false
}

// checkForm verifies a form post's CSRF token: it must be the one issued to
// this person for action. Handlers check it after they have found the thing
// the form changes, so that an id the person may not see is not found
// whatever the form carries.
func (h *Handler) checkForm(c *gin.Context, v *viewer, action string) bool {
	if err := h.CSRF.Verify(c.Request, h.purpose(v, action)); err != nil {
		web.Error(c.Writer, c.Request, v.l, web.BadForm)
		return false
	}
	return true
}

// purpose binds a form's CSRF token to the person and the one change it
// makes.
func (h *Handler) purpose(v *viewer, action string) string {
	return "settings:" + v.user.ID + ":" + action
}

func (h *Handler) token(c *gin.Context, v *viewer, action string) string {
	return h.CSRF.Token(c.Writer, c.Request, h.purpose(v, action))
}

const purposeSignOut = "signout"

// Connections handles GET /settings: My connections.
func (h *Handler) Connections(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok {
		return
	}
	conns, err := h.Store.UserConnections(c, v.user.ID)
	if err != nil {
		h.unavailable(c, v.l, "list connections", err)
		return
	}
	p := ConnectionsPage{Frame: h.frame(c, v), Connections: h.rows(v, conns)}
	for _, t := range v.teams {
		p.Teams = append(p.Teams, TeamRow{ID: t.ID, Name: t.Name, Role: v.l.T("settings.role." + string(t.Role)), Admin: t.Role.Manages()})
	}
	h.render(c, v, http.StatusOK, "settings.html", "settings.title", p)
}

// Connection handles GET /settings/connections/:id: one connection and its
// activity.
func (h *Handler) Connection(c *gin.Context) {
	v, conn, ok := h.viewedConnection(c)
	if !ok {
		return
	}
	events, err := h.Store.Activity(c, conn.ID, activityLimit)
	if err != nil {
		h.unavailable(c, v.l, "read activity", err)
		return
	}
	p := ConnectionPage{Frame: h.frame(c, v), Connection: h.row(v, conn), Back: back(v, conn), Limit: activityLimit}
	for _, e := range events {
		p.Activity = append(p.Activity, ActivityRow{
			At: formatTime(e.At), ISO: e.At.UTC().Format(time.RFC3339), Tool: e.Tool,
			Outcome: v.l.T(OutcomeMessage(e.Outcome)), Failed: e.Outcome != contract.OutcomeOK,
			Duration: formatDuration(v.l, e.Duration),
		})
	}
	h.render(c, v, http.StatusOK, "settings-connection.html", "settings.connection.title", p)
}

// ConfirmRevoke handles GET /settings/connections/:id/revoke: are you sure?
func (h *Handler) ConfirmRevoke(c *gin.Context) {
	v, conn, ok := h.viewedConnection(c)
	if !ok {
		return
	}
	if conn.RevokedAt != nil {
		c.Redirect(http.StatusSeeOther, Home+"/connections/"+conn.ID)
		return
	}
	text := v.l.T("settings.revoke.text", "Client", conn.ClientName, "Team", conn.TeamName)
	if conn.UserID != v.user.ID {
		text = v.l.T("settings.revoke.text.other", "Client", conn.ClientName, "Team", conn.TeamName, "Email", conn.UserEmail)
	}
	h.render(c, v, http.StatusOK, "settings-confirm.html", "settings.revoke.title", ConfirmPage{
		Frame: h.frame(c, v), Heading: v.l.T("settings.revoke.heading", "Client", conn.ClientName), Text: text,
		Action: Home + "/connections/" + conn.ID + "/revoke", CSRFToken: h.token(c, v, "revoke:"+conn.ID),
		Confirm: v.l.T("settings.revoke.confirm"), Cancel: back(v, conn),
	})
}

// Revoke handles POST /settings/connections/:id/revoke.
func (h *Handler) Revoke(c *gin.Context) {
	v, conn, ok := h.viewedConnection(c)
	if !ok || !h.checkForm(c, v, "revoke:"+conn.ID) {
		return
	}
	if !h.found(c, v, "revoke connection", h.Revoker.Connection(c, v.user.ID, conn.ID)) {
		return
	}
	h.Log.InfoContext(c, "connection revoked", "by", v.user.ID, "connection_id", conn.ID, "user_id", conn.UserID, "team_id", conn.TeamID, "client_id", conn.ClientID)
	c.Redirect(http.StatusSeeOther, back(v, conn)+"?done=revoked")
}

// ConfirmRevokeAll handles GET /settings/revoke-all.
func (h *Handler) ConfirmRevokeAll(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok {
		return
	}
	h.render(c, v, http.StatusOK, "settings-confirm.html", "settings.revoke_all.title", ConfirmPage{
		Frame: h.frame(c, v), Heading: v.l.T("settings.revoke_all.title"), Text: v.l.T("settings.revoke_all.text"),
		Action: Home + "/revoke-all", CSRFToken: h.token(c, v, "revoke-all"),
		Confirm: v.l.T("settings.revoke_all.confirm"), Cancel: Home,
	})
}

// RevokeAll handles POST /settings/revoke-all: every connection of the
// person, in every team.
func (h *Handler) RevokeAll(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok || !h.checkForm(c, v, "revoke-all") {
		return
	}
	n, err := h.Revoker.AllOfUser(c, v.user.ID)
	if err != nil {
		h.unavailable(c, v.l, "revoke all connections", err)
		return
	}
	h.Log.InfoContext(c, "all connections revoked", "user_id", v.user.ID, "count", n)
	c.Redirect(http.StatusSeeOther, Home+"?done=revoked_all")
}

// Team handles GET /settings/teams/:team: for its owners and admins, every
// connection into the team and its members.
func (h *Handler) Team(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok {
		return
	}
	team, members, ok := h.administered(c, v, c.Param("team"))
	if !ok {
		return
	}
	conns, err := h.Store.TeamConnections(c, v.user.ID, team.ID)
	if err != nil {
		h.unavailable(c, v.l, "list team connections", err)
		return
	}
	actor := member(members, v.user.ID)
	p := TeamPage{Frame: h.frame(c, v), Team: team, Connections: h.rows(v, conns)}
	for _, m := range members {
		p.Members = append(p.Members, MemberRow{
			UserID: m.UserID, Email: m.Email, Name: m.Name, Role: v.l.T("settings.role." + string(m.Role)),
			Self:      m.UserID == v.user.ID,
			CanRemove: m.UserID != v.user.ID && membership.Decide(actor, m, members) == nil,
		})
	}
	h.render(c, v, http.StatusOK, "settings-team.html", "settings.team.title", p)
}

// ConfirmRemove handles GET /settings/teams/:team/members/:user/remove.
func (h *Handler) ConfirmRemove(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok {
		return
	}
	team, members, ok := h.administered(c, v, c.Param("team"))
	if !ok {
		return
	}
	target, ok := h.removable(c, v, members)
	if !ok {
		return
	}
	if err := membership.Decide(member(members, v.user.ID), target, members); err != nil {
		h.membershipError(c, v, err)
		return
	}
	h.render(c, v, http.StatusOK, "settings-confirm.html", "settings.remove.title", ConfirmPage{
		Frame:   h.frame(c, v),
		Heading: v.l.T("settings.remove.heading", "Email", target.Email, "Team", team.Name),
		Text:    v.l.T("settings.remove.text", "Email", target.Email, "Team", team.Name),
		Action:  Home + "/teams/" + team.ID + "/members/" + target.UserID + "/remove", CSRFToken: h.token(c, v, "remove:"+team.ID+":"+target.UserID),
		Confirm: v.l.T("settings.remove.confirm"), Cancel: Home + "/teams/" + team.ID,
	})
}

// Remove handles POST /settings/teams/:team/members/:user/remove.
func (h *Handler) Remove(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok {
		return
	}
	team, members, ok := h.administered(c, v, c.Param("team"))
	if !ok {
		return
	}
	target, ok := h.removable(c, v, members)
	if !ok || !h.checkForm(c, v, "remove:"+team.ID+":"+target.UserID) {
		return
	}
	teamID, userID := team.ID, target.UserID
	// The rule is applied again in the transaction that removes.
	n, err := membership.Remove(c, h.Revoker, v.user.ID, teamID, userID)
	if err != nil {
		h.membershipError(c, v, err)
		return
	}
	h.Log.InfoContext(c, "member removed", "by", v.user.ID, "team_id", teamID, "user_id", userID, "connections_revoked", n)
	c.Redirect(http.StatusSeeOther, Home+"/teams/"+teamID+"?done=removed")
}

// ConfirmLeave handles GET /settings/teams/:team/leave.
func (h *Handler) ConfirmLeave(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok {
		return
	}
	team, ok := h.memberOf(c, v, c.Param("team"))
	if !ok {
		return
	}
	h.render(c, v, http.StatusOK, "settings-confirm.html", "settings.leave.title", ConfirmPage{
		Frame: h.frame(c, v), Heading: v.l.T("settings.leave.heading", "Team", team.Name), Text: v.l.T("settings.leave.text", "Team", team.Name),
		Action: Home + "/teams/" + team.ID + "/leave", CSRFToken: h.token(c, v, "leave:"+team.ID),
		Confirm: v.l.T("settings.leave.confirm"), Cancel: Home,
	})
}

// Leave handles POST /settings/teams/:team/leave.
func (h *Handler) Leave(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok {
		return
	}
	team, ok := h.memberOf(c, v, c.Param("team"))
	if !ok || !h.checkForm(c, v, "leave:"+team.ID) {
		return
	}
	teamID := team.ID
	n, err := membership.Leave(c, h.Revoker, v.user.ID, teamID)
	if err != nil {
		h.membershipError(c, v, err)
		return
	}
	h.Log.InfoContext(c, "left team", "user_id", v.user.ID, "team_id", teamID, "connections_revoked", n)
	c.Redirect(http.StatusSeeOther, Home+"?done=left")
}

// visible loads a connection the viewer may see, or answers 404.
func (h *Handler) visible(c *gin.Context, v *viewer, id string) (store.ConnectionView, bool) {
	conn, err := h.Store.VisibleConnection(c, v.user.ID, id)
	return conn, h.found(c, v, "read connection", err)
}

// viewedConnection signs the viewer in and loads the connection named by
// the :id parameter, if the viewer may see it; otherwise it has answered.
func (h *Handler) viewedConnection(c *gin.Context) (*viewer, store.ConnectionView, bool) {
	v, ok := h.viewer(c)
	if !ok {
		return nil, store.ConnectionView{}, false
	}
	conn, ok := h.visible(c, v, c.Param("id"))
	return v, conn, ok
}

// memberOf loads a team the viewer is a member of, or answers 404.
func (h *Handler) memberOf(c *gin.Context, v *viewer, teamID string) (store.Team, bool) {
	team, err := h.Store.TeamOfMember(c, v.user.ID, teamID)
	return team, h.found(c, v, "read team", err)
}

// removable finds the member named by the :user parameter among members:
// anyone but the viewer (leaving has its own page), or it answers 404.
func (h *Handler) removable(c *gin.Context, v *viewer, members []store.Member) (store.Member, bool) {
	target := member(members, c.Param("user"))
	if target.UserID == "" || target.UserID == v.user.ID {
		h.notFound(c, v)
		return target, false
	}
	return target, true
}

// administered loads a team the viewer owns or administers, with its
// members, or answers 404.
func (h *Handler) administered(c *gin.Context, v *viewer, teamID string) (store.Team, []store.Member, bool) {
	team, err := h.Store.TeamAdministeredBy(c, v.user.ID, teamID)
	if !h.found(c, v, "read team", err) {
		return team, nil, false
	}
	members, err := h.Store.Members(c, team.ID)
	if err != nil {
		h.unavailable(c, v.l, "list members", err)
		return team, nil, false
	}
	return team, members, true
}

func (h *Handler) membershipError(c *gin.Context, v *viewer, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.notFound(c, v)
	case errors.Is(err, membership.ErrNotAllowed):
		h.problem(c, v, http.StatusForbidden, "settings.remove.forbidden.title", "settings.remove.forbidden.message")
	case errors.Is(err, membership.ErrLastOwner):
		h.problem(c, v, http.StatusConflict, "settings.leave.last_owner.title", "settings.leave.last_owner.message")
	default:
		h.unavailable(c, v.l, "end membership", err)
	}
}

// found reports whether err is nil; otherwise it has answered: 404 for
// store.ErrNotFound (what another user's ids get too), 503 for the rest.
func (h *Handler) found(c *gin.Context, v *viewer, op string, err error) bool {
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.notFound(c, v)
		return false
	case err != nil:
		h.unavailable(c, v.l, op, err)
		return false
	}
	return true
}

func (h *Handler) notFound(c *gin.Context, v *viewer) {
	h.problem(c, v, http.StatusNotFound, "settings.notfound.title", "settings.notfound.message")
}

func (h *Handler) problem(c *gin.Context, v *viewer, status int, titleID, textID string) {
	h.render(c, v, status, "settings-message.html", titleID, MessagePage{Frame: h.frame(c, v), Text: v.l.T(textID)})
}

func (h *Handler) unavailable(c *gin.Context, l *locale.Localizer, op string, err error) {
	h.Log.ErrorContext(c, "settings: "+op, "err", err)
	web.Error(c.Writer, c.Request, l, web.Unavailable)
}

// render writes a settings page; the language switcher links to the page
// itself on GET requests.
func (h *Handler) render(c *gin.Context, v *viewer, status int, name, titleID string, data any) {
	self := ""
	if c.Request.Method == http.MethodGet {
		self = c.Request.URL.Path
	}
	web.Render(c.Writer, status, name, web.NewView(v.l, self, titleID, data))
}

// done maps the done parameter of the page an action redirects to onto its
// message; anything else shows nothing.
var done = map[string]string{
	"revoked":     "settings.done.revoked",
	"revoked_all": "settings.done.revoked_all",
	"removed":     "settings.done.removed",
	"left":        "settings.done.left",
	"granted":     "settings.done.granted",
}

func (h *Handler) frame(c *gin.Context, v *viewer) Frame {
	f := Frame{Email: v.user.Email, SignOutToken: h.token(c, v, purposeSignOut)}
	for _, t := range v.teams {
		if t.Role.Manages() {
			f.AdminTeams = append(f.AdminTeams, t)
		}
	}
	if id, ok := done[c.Query("done")]; ok && c.Request.Method == http.MethodGet {
		f.Notice = v.l.T(id)
	}
	return f
}

// OutcomeMessage is the id of the message naming an audit outcome in the
// activity view; every language has one for each of contract.Outcomes.
func OutcomeMessage(o contract.Outcome) string { return "settings.outcome." + string(o) }

// back is where an action on conn returns to: My connections for the
// person's own, the team's page for someone else's.
func back(v *viewer, conn store.ConnectionView) string {
	if conn.UserID == v.user.ID {
		return Home
	}
	return Home + "/teams/" + conn.TeamID
}

func member(members []store.Member, userID string) store.Member {
	for _, m := range members {
		if m.UserID == userID {
			return m
		}
	}
	return store.Member{}
}

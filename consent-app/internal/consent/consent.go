// Package consent is the approval step of Hydra's consent flow: the user picks
// exactly one team, reviews the requested scopes by their labels, and allows or
// denies. An approval is recorded as a connection, and the access token carries
// the connection and team ids as claims.
package consent

import (
	"context"
	"log/slog"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/authorize"
	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/login"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// Store is the data the consent step reads and writes.
type Store interface {
	UserByID(ctx context.Context, id string) (store.User, error)
	TeamsOfUser(ctx context.Context, userID string) ([]store.Team, error)
	CreateConnection(ctx context.Context, c store.Connection) (string, error)
	DeleteConnection(ctx context.Context, id string) error
}

// Handler serves GET and POST /consent.
type Handler struct {
	Hydra          hydraadmin.Admin
	Store          Store
	CSRF           *csrf.Protector
	MCPResourceURL string
	Log            *slog.Logger
}

// Page is the data of consent.html.
type Page struct {
	Challenge  string
	CSRFToken  string
	ClientName string
	// VerifiedHost is the host of the client's metadata document, which
	// vouches for it; "" for a self-registered client.
	VerifiedHost     string
	UserEmail        string
	RedirectHost     string
	RedirectLoopback bool
	Teams            []store.Team
	OnlyTeam         bool
	Scopes           []catalog.Scope
	Error            string
}

// Plan is what an approval grants.
type Plan struct {
	Team store.Team
	// Scopes are the catalog scopes granted, shown to the user and recorded
	// on the connection.
	Scopes []string
	// HydraScopes are granted in Hydra: Scopes plus offline_access when the
	// client may refresh, whether or not it asked (DESIGN.md trap 4).
	HydraScopes []string
	Audience    []string
}

// ErrNoTeamChosen is shown when the posted team is missing or not the user's.
const ErrNoTeamChosen = "Choose one of your teams to connect."

// Decide is the pure decision for an approval: which team, which scopes,
// which audience; or the rejection to send back to the client; or a message
// for the user when the chosen team is not one of theirs.
func Decide(req *hydra.OAuth2ConsentRequest, teamID string, teams []store.Team, mcpURL string) (Plan, *hydraadmin.Rejection, string) {
	ar, err := authorize.Parse(req.GetRequestUrl())
	if err != nil {
		return Plan{}, &hydraadmin.Rejection{Error: "invalid_request", Description: "The authorization request could not be read."}, ""
	}
	if rej := authorize.Check(ar, mcpURL); rej != nil {
		return Plan{}, rej, ""
	}
	i := slices.IndexFunc(teams, func(t store.Team) bool { return t.ID == teamID })
	if teamID == "" || i < 0 {
		return Plan{}, nil, ErrNoTeamChosen
	}
	scopes := catalog.Known(req.RequestedScope)
	hydraScopes := slices.Clone(scopes)
	if req.Client != nil && slices.Contains(req.Client.GrantTypes, "refresh_token") {
		hydraScopes = append(hydraScopes, catalog.OfflineAccess)
	}
	return Plan{Team: teams[i], Scopes: scopes, HydraScopes: hydraScopes, Audience: []string{mcpURL}}, nil, ""
}

// Show handles GET /consent?consent_challenge=….
func (h *Handler) Show(c *gin.Context) {
	challenge := c.Query("consent_challenge")
	req, ok := h.consentRequest(c, challenge)
	if !ok {
		return
	}
	if ar, err := authorize.Parse(req.GetRequestUrl()); err == nil {
		if rej := authorize.Check(ar, h.MCPResourceURL); rej != nil {
			h.reject(c, challenge, *rej)
			return
		}
	}
	h.page(c, http.StatusOK, req, "")
}

// Submit handles POST /consent.
func (h *Handler) Submit(c *gin.Context) {
	challenge := c.PostForm("consent_challenge")
	if err := h.CSRF.Verify(c.Request, "consent:"+challenge); err != nil {
		web.Error(c.Writer, http.StatusForbidden, "Security check failed", err.Error())
		return
	}
	req, ok := h.consentRequest(c, challenge)
	if !ok {
		return
	}
	if c.PostForm("action") != "allow" {
		h.reject(c, challenge, hydraadmin.Rejection{Error: "access_denied", Description: "The user denied the request."})
		return
	}
	teams, err := h.Store.TeamsOfUser(c, req.GetSubject())
	if err != nil {
		h.unavailable(c, "list teams", err)
		return
	}
	plan, rej, userErr := Decide(req, c.PostForm("team_id"), teams, h.MCPResourceURL)
	switch {
	case rej != nil:
		h.reject(c, challenge, *rej)
		return
	case userErr != "":
		h.page(c, http.StatusBadRequest, req, userErr)
		return
	}
	connID, err := h.Store.CreateConnection(c, store.Connection{
		UserID:     req.GetSubject(),
		TeamID:     plan.Team.ID,
		ClientID:   req.Client.GetClientId(),
		ClientName: clientName(req.Client),
		Scopes:     plan.Scopes,
	})
	if err != nil {
		h.unavailable(c, "create connection", err)
		return
	}
	redirect, err := h.Hydra.AcceptConsent(c, challenge, hydraadmin.ConsentGrant{
		Scopes:   plan.HydraScopes,
		Audience: plan.Audience,
		AccessTokenClaims: map[string]any{
			"team_id":       plan.Team.ID,
			"team_slug":     plan.Team.Slug,
			"connection_id": connID,
		},
	})
	if err != nil {
		// Nothing is half-granted: without Hydra's acceptance the connection
		// can never carry a token, so it goes.
		if derr := h.Store.DeleteConnection(context.WithoutCancel(c), connID); derr != nil {
			h.Log.Error("delete unaccepted connection", "connection_id", connID, "err", derr)
		}
		login.HydraError(c, h.Log, err)
		return
	}
	h.Log.Info("consent granted", "user_id", req.GetSubject(), "team_id", plan.Team.ID,
		"client_id", req.Client.GetClientId(), "connection_id", connID, "scopes", plan.Scopes)
	c.Redirect(http.StatusFound, redirect)
}

func (h *Handler) consentRequest(c *gin.Context, challenge string) (*hydra.OAuth2ConsentRequest, bool) {
	if challenge == "" {
		web.Error(c.Writer, http.StatusBadRequest, "Approval link incomplete",
			"This page is opened by an app that connects to your account. Start the connection from the app again.")
		return nil, false
	}
	req, err := h.Hydra.ConsentRequest(c, challenge)
	if err != nil {
		login.HydraError(c, h.Log, err)
		return nil, false
	}
	return req, true
}

func (h *Handler) page(c *gin.Context, status int, req *hydra.OAuth2ConsentRequest, message string) {
	user, err := h.Store.UserByID(c, req.GetSubject())
	if err != nil {
		h.unavailable(c, "load user", err)
		return
	}
	teams, err := h.Store.TeamsOfUser(c, user.ID)
	if err != nil {
		h.unavailable(c, "list teams", err)
		return
	}
	ar, _ := authorize.Parse(req.GetRequestUrl())
	host, loopback := ar.RedirectHost()
	var scopes []catalog.Scope
	for _, name := range catalog.Known(req.RequestedScope) {
		s, _ := catalog.Lookup(name)
		scopes = append(scopes, s)
	}
	// Reads first, then writes, so what can change data stands apart.
	slices.SortStableFunc(scopes, func(a, b catalog.Scope) int {
		if a.Access == b.Access {
			return 0
		}
		if a.Access == catalog.Read {
			return -1
		}
		return 1
	})
	web.Render(c.Writer, status, "consent.html", Page{
		Challenge:        req.Challenge,
		CSRFToken:        h.CSRF.Token(c.Writer, c.Request, "consent:"+req.Challenge),
		ClientName:       clientName(req.Client),
		VerifiedHost:     clientmeta.VerifiedHost(req.Client),
		UserEmail:        user.Email,
		RedirectHost:     host,
		RedirectLoopback: loopback,
		Teams:            teams,
		OnlyTeam:         len(teams) == 1,
		Scopes:           scopes,
		Error:            message,
	})
}

func (h *Handler) reject(c *gin.Context, challenge string, rej hydraadmin.Rejection) {
	redirect, err := h.Hydra.RejectConsent(c, challenge, rej)
	if err != nil {
		login.HydraError(c, h.Log, err)
		return
	}
	c.Redirect(http.StatusFound, redirect)
}

func (h *Handler) unavailable(c *gin.Context, op string, err error) {
	h.Log.Error(op, "err", err)
	web.Error(c.Writer, http.StatusServiceUnavailable, "Approval is unavailable", "Please try again in a moment.")
}

func clientName(c *hydra.OAuth2Client) string {
	if c == nil {
		return "An application"
	}
	if n := c.GetClientName(); n != "" {
		return n
	}
	return c.GetClientId()
}

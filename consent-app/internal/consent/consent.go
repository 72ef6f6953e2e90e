// Package consent is the approval step of Hydra's consent flow: the user picks
// exactly one team, reviews the requested scopes by their labels, and allows or
// denies. The access token of an approval carries the team and connection ids
// as claims; the connection itself is recorded by the token hook once the
// client redeems its code.
package consent

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/authorize"
	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/telemetry"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// Store is the data the consent step reads.
type Store interface {
	UserByID(ctx context.Context, id string) (store.User, error)
	TeamsOfUser(ctx context.Context, userID string) ([]store.Team, error)
}

// Hydra is the part of Hydra's admin API the consent step uses.
type Hydra interface {
	ConsentRequest(ctx context.Context, challenge string) (*hydra.OAuth2ConsentRequest, error)
	AcceptConsent(ctx context.Context, challenge string, g hydraadmin.ConsentGrant) (string, error)
	RejectConsent(ctx context.Context, challenge string, r hydraadmin.Rejection) (string, error)
}

// Handler serves GET and POST /consent.
type Handler struct {
	Hydra  Hydra
	Store  Store
	CSRF   *csrf.Protector
	Locale *locale.Catalog
	// Known names pinned clients by their publisher; nil names none.
	Known          *clientmeta.Known
	MCPResourceURL string
	Log            *slog.Logger
	// Metrics counts decisions; nil counts nothing.
	Metrics *telemetry.Metrics
}

// Page is the data of consent.html.
type Page struct {
	Challenge     string
	CSRFToken     string
	ClientName    string
	ClientInitial string
	// VerifiedHost is the host of the client's metadata document, which
	// vouches for it; "" for a self-registered client.
	VerifiedHost string
	// Publisher is who makes a pinned client (clientmeta.Known), named only
	// when its client_id is that client's document URL; "" otherwise.
	Publisher string
	// Verified hides the "unverified" badge (see Verified).
	Verified         bool
	UserEmail        string
	RedirectHost     string
	RedirectLoopback bool
	Teams            []store.Team
	// OnlyTeam preselects the team when there is just one; with several,
	// the person must pick.
	OnlyTeam bool
	// Read and Write are the requested catalog scopes, apart so that what
	// can change data stands out. Scopes outside the catalog are not shown.
	Read, Write []ScopeText
	// Error is the translated message above the form.
	Error string
}

// ScopeText is a scope as the page shows it, in the page's language.
type ScopeText struct {
	Name, Label, Description string
}

// VerifiedMetadataKey is the Hydra client metadata member an operator sets
// to true for a client whose identity they checked (see Verified).
const VerifiedMetadataKey = "verified"

// Verified reports whether the page may present the client's name without
// the "unverified" badge: only when an operator marked the client verified
// or its Client ID Metadata Document vouches for it, and never when its
// redirect goes to a program on this computer, which any local program
// could be. Self-registered clients are never verified.
func Verified(c *hydra.OAuth2Client, local bool) bool {
	if c == nil || local {
		return false
	}
	m, ok := c.GetMetadata().(map[string]any)
	return ok && m[VerifiedMetadataKey] == true || clientmeta.VerifiedHost(c) != ""
}

// Plan is what an approval grants.
type Plan struct {
	Team store.Team
	// Scopes are the catalog scopes granted, shown to the user and recorded
	// on the connection.
	Scopes []string
	// HydraScopes are granted in Hydra: Scopes plus offline_access when the
	// client may refresh, whether or not it asked (docs/design.md quirk 4).
	HydraScopes []string
	Audience    []string
}

// ErrNoTeamChosen is the message id shown when the posted team is missing
// or not the user's.
const ErrNoTeamChosen = "consent.error.no_team"

// Decide is the pure decision for an approval: which team, which scopes,
// which audience; or the rejection to send back to the client; or the id of
// a message for the user when the chosen team is not one of theirs.
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
	req, l, ok := h.consentRequest(c, challenge)
	if !ok {
		return
	}
	if firstparty.Is(req.Client.GetClientId()) {
		h.acceptFirstParty(c, l, req)
		return
	}
	h.Log.DebugContext(c, "consent request", "client_id", req.Client.GetClientId(), "user_id", req.GetSubject(),
		"requested_scopes", req.RequestedScope, "requested_audience", req.RequestedAccessTokenAudience)
	if ar, err := authorize.Parse(req.GetRequestUrl()); err == nil {
		if rej := authorize.Check(ar, h.MCPResourceURL); rej != nil {
			h.Log.DebugContext(c, "consent refused before the page", "client_id", req.Client.GetClientId(), "error", rej.Error)
			h.reject(c, l, challenge, *rej)
			return
		}
	}
	h.page(c, l, http.StatusOK, req, "")
}

// Submit handles POST /consent.
func (h *Handler) Submit(c *gin.Context) {
	challenge := c.PostForm("consent_challenge")
	if err := h.CSRF.Verify(c.Request, "consent:"+challenge); err != nil {
		web.Error(c.Writer, c.Request, h.Locale.For(c.Writer, c.Request, ""), web.BadForm)
		return
	}
	req, l, ok := h.consentRequest(c, challenge)
	if !ok {
		return
	}
	if firstparty.Is(req.Client.GetClientId()) {
		h.acceptFirstParty(c, l, req)
		return
	}
	if c.PostForm("action") != "allow" {
		h.Metrics.Consent("denied")
		h.reject(c, l, challenge, hydraadmin.Rejection{Error: "access_denied", Description: "The user denied the request."})
		return
	}
	teams, err := h.Store.TeamsOfUser(c, req.GetSubject())
	if err != nil {
		h.unavailable(c, l, "list teams", err)
		return
	}
	plan, rej, userErr := Decide(req, c.PostForm("team_id"), teams, h.MCPResourceURL)
	switch {
	case rej != nil:
		h.Metrics.Consent("refused")
		h.reject(c, l, challenge, *rej)
		return
	case userErr != "":
		h.Metrics.Consent("no_team")
		h.page(c, l, http.StatusBadRequest, req, userErr)
		return
	}
	// The connection is recorded by the token hook when the client redeems
	// its code (tokenhook.Handler), not here: Hydra v2.3 keeps a flow in its
	// challenge, so a replayed challenge, one approved in another browser or
	// one whose answer never reached the browser is accepted here and only
	// fails at Hydra afterwards. A row written now could outlive its flow.
	connID := store.NewConnectionID()
	redirect, err := h.Hydra.AcceptConsent(c, challenge, hydraadmin.ConsentGrant{
		Scopes:            plan.HydraScopes,
		Audience:          plan.Audience,
		AccessTokenClaims: Claims(plan, connID, clientmeta.DisplayName(req.Client), stepUp(h.Known, req.Client)),
	})
	if err != nil {
		web.HydraError(c.Writer, c.Request, l, h.Log, err)
		return
	}
	h.Log.InfoContext(c, "consent granted", "user_id", req.GetSubject(), "team_id", plan.Team.ID,
		"client_id", req.Client.GetClientId(), "connection_id", connID, "scopes", plan.Scopes)
	h.Metrics.Consent("granted")
	c.Redirect(http.StatusFound, redirect)
}

// Claims are the access token's session claims for an approval: the team
// and the connection the token stands for (docs/design.md, "Contracts between the services"), and what the
// token hook records with the connection — the client's name as the user
// saw it and the catalog scopes granted — and, for a pinned client that
// mishandles step-up challenges, stepUp (contract.ClaimStepUp; "" adds
// nothing). The claim names are the contract package's.
// Only introspection shows them.
func Claims(plan Plan, connectionID, clientName, stepUp string) map[string]any {
	claims := map[string]any{
		contract.ClaimTeamID:           plan.Team.ID,
		contract.ClaimTeamSlug:         plan.Team.Slug,
		contract.ClaimConnectionID:     connectionID,
		contract.ClaimClientName:       clientName,
		contract.ClaimConnectionScopes: plan.Scopes,
	}
	if stepUp != "" {
		claims[contract.ClaimStepUp] = stepUp
	}
	return claims
}

// acceptFirstParty lets the settings pages' own client through without a
// question: it signs a person in to their own account and gets openid alone
// — no team, no connection, no audience, so none of its tokens opens the MCP
// server.
func (h *Handler) acceptFirstParty(c *gin.Context, l *locale.Localizer, req *hydra.OAuth2ConsentRequest) {
	var scopes []string
	if slices.Contains(req.RequestedScope, firstparty.Scope) {
		scopes = []string{firstparty.Scope}
	}
	redirect, err := h.Hydra.AcceptConsent(c, req.Challenge, hydraadmin.ConsentGrant{Scopes: scopes})
	if err != nil {
		web.HydraError(c.Writer, c.Request, l, h.Log, err)
		return
	}
	c.Redirect(http.StatusFound, redirect)
}

// consentRequest fetches the consent request and picks the page language,
// with the request's ui_locales once it is known.
func (h *Handler) consentRequest(c *gin.Context, challenge string) (*hydra.OAuth2ConsentRequest, *locale.Localizer, bool) {
	if challenge == "" {
		web.Error(c.Writer, c.Request, h.Locale.For(c.Writer, c.Request, ""), web.BadLink)
		return nil, nil, false
	}
	req, err := h.Hydra.ConsentRequest(c, challenge)
	if err != nil {
		web.HydraError(c.Writer, c.Request, h.Locale.For(c.Writer, c.Request, ""), h.Log, err)
		return nil, nil, false
	}
	ar, _ := authorize.Parse(req.GetRequestUrl())
	return req, h.Locale.For(c.Writer, c.Request, ar.UILocales), true
}

func (h *Handler) page(c *gin.Context, l *locale.Localizer, status int, req *hydra.OAuth2ConsentRequest, errID string) {
	user, err := h.Store.UserByID(c, req.GetSubject())
	if err != nil {
		h.unavailable(c, l, "load user", err)
		return
	}
	teams, err := h.Store.TeamsOfUser(c, user.ID)
	if err != nil {
		h.unavailable(c, l, "list teams", err)
		return
	}
	ar, _ := authorize.Parse(req.GetRequestUrl())
	host, local := ar.RedirectHost()
	name := clientmeta.DisplayName(req.Client)
	p := Page{
		Challenge:        req.Challenge,
		CSRFToken:        h.CSRF.Token(c.Writer, c.Request, "consent:"+req.Challenge),
		ClientName:       name,
		ClientInitial:    clientmeta.Initial(name),
		VerifiedHost:     clientmeta.VerifiedHost(req.Client),
		Publisher:        publisher(h.Known, req.Client),
		Verified:         Verified(req.Client, local),
		UserEmail:        user.Email,
		RedirectHost:     host,
		RedirectLoopback: local,
		Teams:            teams,
		OnlyTeam:         len(teams) == 1,
	}
	p.Read, p.Write = ScopeTexts(l, req.RequestedScope)
	if errID != "" {
		p.Error = l.T(errID)
	}
	self := "/consent?consent_challenge=" + url.QueryEscape(req.Challenge)
	web.Render(c.Writer, status, "consent.html", web.NewView(l, self, "consent.title", p))
}

// publisher returns who makes c when c stands for a pinned client's
// metadata document, and "" for every other client, including one that
// registered itself under a known client's name.
func publisher(known *clientmeta.Known, c *hydra.OAuth2Client) string {
	k, ok := known.Lookup(clientmeta.DocumentURL(c))
	if !ok {
		return ""
	}
	return k.Publisher
}

// stepUp returns the pinned client's step-up mode for c, by the same exact
// document URL rule as publisher: a client registering itself under Claude
// Code's name gets the standard challenge.
func stepUp(known *clientmeta.Known, c *hydra.OAuth2Client) string {
	k, _ := known.Lookup(clientmeta.DocumentURL(c))
	return k.StepUp
}

// ScopeTexts returns the requested catalog scopes in catalog order, reads
// apart from writes, in l's language. Anything outside the catalog is left
// out: it is never granted either.
func ScopeTexts(l *locale.Localizer, requested []string) (read, write []ScopeText) {
	for _, name := range catalog.Known(requested) {
		s, _ := catalog.Lookup(name)
		t := ScopeText{Name: name, Label: l.ScopeLabel(name), Description: l.ScopeDescription(name)}
		if s.Access == catalog.Write {
			write = append(write, t)
		} else {
			read = append(read, t)
		}
	}
	return read, write
}

func (h *Handler) reject(c *gin.Context, l *locale.Localizer, challenge string, rej hydraadmin.Rejection) {
	redirect, err := h.Hydra.RejectConsent(c, challenge, rej)
	if err != nil {
		web.HydraError(c.Writer, c.Request, l, h.Log, err)
		return
	}
	c.Redirect(http.StatusFound, redirect)
}

func (h *Handler) unavailable(c *gin.Context, l *locale.Localizer, op string, err error) {
	h.Log.ErrorContext(c, op, "err", err)
	web.Error(c.Writer, c.Request, l, web.Unavailable)
}

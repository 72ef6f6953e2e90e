// Package tokenhook is the endpoint Hydra calls before it issues any token
// (oauth2.token_hook). It records a connection when its first token is issued
// (the code exchange), and it is our veto: no client_credentials, and no
// token — first or refreshed — for a connection that was revoked or whose user
// left the team.
package tokenhook

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/oautherr"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/telemetry"
)

// HeaderName carries the shared key Hydra is configured to send.
const HeaderName = "X-Token-Hook-Key"

// Connections records connections and looks up their state.
type Connections interface {
	RecordConnection(ctx context.Context, c store.Connection) error
	ConnectionState(ctx context.Context, id string) (store.ConnectionState, error)
}

// Handler serves POST /internal/token-hook.
type Handler struct {
	APIKey      string
	Connections Connections
	Log         *slog.Logger
	// Metrics counts decisions; nil counts nothing.
	Metrics *telemetry.Metrics
}

// Request is the part of Hydra's hook payload we read.
type Request struct {
	Session struct {
		Extra   map[string]any `json:"extra"`
		IDToken struct {
			Subject string `json:"subject"`
		} `json:"id_token"`
	} `json:"session"`
	Request struct {
		ClientID   string   `json:"client_id"`
		GrantTypes []string `json:"grant_types"`
	} `json:"request"`
}

// Connection is the connection a code exchange records, from the claims the
// consent step put in the session (consent.Claims); ok is false for any
// other grant or a session without them. (Hydra v2.3 sends no
// granted_scopes with a code exchange, so the scopes come from the claims
// too.)
func (r *Request) Connection() (c store.Connection, ok bool) {
	if !slices.Equal(r.Request.GrantTypes, []string{"authorization_code"}) {
		return store.Connection{}, false
	}
	c = store.Connection{
		ID:         claim(r.Session.Extra, contract.ClaimConnectionID),
		UserID:     r.Session.IDToken.Subject,
		TeamID:     claim(r.Session.Extra, contract.ClaimTeamID),
		ClientID:   r.Request.ClientID,
		ClientName: claim(r.Session.Extra, contract.ClaimClientName),
		// Never nil: the column is NOT NULL.
		Scopes: append([]string{}, catalog.Known(stringsClaim(r.Session.Extra, contract.ClaimConnectionScopes))...),
	}
	c.ClientName = clientmeta.NameOr(c.ClientName, c.ClientID)
	return c, c.ID != "" && c.UserID != "" && c.TeamID != "" && c.ClientID != ""
}

// unavailable answers 503 temporarily_unavailable, without a description
// or Retry-After: Hydra fails the token request on any answer but 2xx and
// 403, and the client sees Hydra's error, not this one.
func unavailable(c *gin.Context) {
	oautherr.Write(c.Writer, http.StatusServiceUnavailable, oautherr.New(oautherr.TemporarilyUnavailable, ""))
}

func claim(ext map[string]any, key string) string {
	s, _ := ext[key].(string)
	return s
}

func stringsClaim(ext map[string]any, key string) []string {
	list, _ := ext[key].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Verdict is the hook's answer.
type Verdict struct {
	Allow bool
	// Refusal says why a token was refused; "" when it is allowed.
	Refusal Refusal
}

// Refusal is why the hook refused a token: the value of the log line's
// reason and of the decisions metric's label (as "refused_<value>").
type Refusal string

// The refusals.
const (
	RefusedGrantType         Refusal = "grant_type"          // not authorization_code or refresh_token
	RefusedFirstPartyRefresh Refusal = "first_party_refresh" // the settings client only signs in
	RefusedNoConnection      Refusal = "no_connection"       // the token carries no connection id
	RefusedUnknownConnection Refusal = "unknown_connection"
	RefusedRevoked           Refusal = "revoked"
	RefusedNotOwner          Refusal = "not_owner"  // the connection is another user's or client's
	RefusedNotMember         Refusal = "not_member" // the user left the connection's team
)

// Decide is the pure decision. Only authorization_code and refresh_token
// grants are served, and only for a connection that exists, is not revoked,
// belongs to the token's user and client, and whose user is still a member of
// its team — except for the first-party client's sign-in codes, which carry
// no connection.
func Decide(grantTypes []string, subject, clientID, connectionID string, st store.ConnectionState) Verdict {
	if len(grantTypes) == 0 || slices.ContainsFunc(grantTypes, func(g string) bool {
		return g != "authorization_code" && g != "refresh_token"
	}) {
		return Verdict{Refusal: RefusedGrantType}
	}
	if firstparty.Is(clientID) {
		// The settings pages' sign-in: openid only, no connection, and no
		// refresh grant (the client is registered without one).
		if slices.Equal(grantTypes, []string{"authorization_code"}) {
			return Verdict{Allow: true}
		}
		return Verdict{Refusal: RefusedFirstPartyRefresh}
	}
	switch {
	case connectionID == "":
		return Verdict{Refusal: RefusedNoConnection}
	case !st.Exists:
		return Verdict{Refusal: RefusedUnknownConnection}
	case st.Revoked:
		return Verdict{Refusal: RefusedRevoked}
	case st.UserID != subject || st.ClientID != clientID:
		return Verdict{Refusal: RefusedNotOwner}
	case !st.Member:
		return Verdict{Refusal: RefusedNotMember}
	}
	return Verdict{Allow: true}
}

// ServeHook handles Hydra's call: 204 lets the token through unchanged, 403
// makes Hydra answer the client with access_denied.
func (h *Handler) ServeHook(c *gin.Context) {
	if subtle.ConstantTimeCompare([]byte(c.GetHeader(HeaderName)), []byte(h.APIKey)) != 1 {
		oautherr.Write(c.Writer, http.StatusUnauthorized, oautherr.New(oautherr.Unauthorized, "missing or wrong "+HeaderName))
		return
	}
	var req Request
	if err := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, 1<<20)).Decode(&req); err != nil {
		oautherr.Write(c.Writer, http.StatusBadRequest, oautherr.New(oautherr.InvalidRequest, "body is not a Hydra token hook payload"))
		return
	}
	if conn, ok := req.Connection(); ok {
		if err := h.Connections.RecordConnection(c, conn); err != nil {
			h.Log.ErrorContext(c, "token hook: record connection", "connection_id", conn.ID, "err", err)
			unavailable(c)
			return
		}
	}
	connID := claim(req.Session.Extra, contract.ClaimConnectionID)
	var st store.ConnectionState
	if connID != "" {
		var err error
		if st, err = h.Connections.ConnectionState(c, connID); err != nil {
			// Fail closed: Hydra turns any non-2xx, non-403 answer into an
			// error for the client, and no token is issued.
			h.Log.ErrorContext(c, "token hook: look up connection", "connection_id", connID, "err", err)
			unavailable(c)
			return
		}
	}
	v := Decide(req.Request.GrantTypes, req.Session.IDToken.Subject, req.Request.ClientID, connID, st)
	if !v.Allow {
		h.Log.InfoContext(c, "token refused", "reason", string(v.Refusal), "client_id", req.Request.ClientID,
			"connection_id", connID, "grant_types", req.Request.GrantTypes)
		h.Metrics.TokenHook("refused_" + string(v.Refusal))
		c.Status(http.StatusForbidden)
		return
	}
	h.Log.DebugContext(c, "token allowed", "client_id", req.Request.ClientID, "user_id", req.Session.IDToken.Subject,
		"connection_id", connID, "grant_types", req.Request.GrantTypes)
	h.Metrics.TokenHook("allowed")
	c.Status(http.StatusNoContent)
}

// Package gate is the MCP endpoint's authorization layer: it checks the Host
// and Origin, verifies the bearer token by Hydra introspection and the
// connections table, enforces each tool's scope, and hands the caller's
// Identity to the tools.
//
// It replaces the go-sdk's auth.RequireBearerToken on purpose (docs/design.md
// quirk 9): that middleware answers a missing scope with a 403 lacking
// error="insufficient_scope", so clients never step up, and turns verifier
// outages into 500s. Here a missing or bad token is a 401 challenge, a
// missing scope a 403 step-up challenge, and anything we cannot check a 503:
// the gate fails closed and never lets a request through on an error.
package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/mcp-server/internal/prm"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

// Connections looks up the consent app's connection rows. It returns an
// error wrapping store.ErrNotFound when no row has the id.
type Connections interface {
	Connection(ctx context.Context, id string) (store.Connection, error)
}

// Options configure the gate.
type Options struct {
	// Resource is the canonical MCP URL: the audience tokens must carry.
	Resource string
	// Introspector verifies tokens with Hydra (an introspect.Cache in
	// production). An error means the answer is unknown: the gate answers
	// 503.
	Introspector introspect.Introspector
	// Connections is checked on every request, cache or not, so that a
	// revoked connection is refused at once.
	Connections Connections
	// Timeout bounds the verification of one request (introspection and
	// connection lookup together); past it the gate answers 503. Zero = 5s.
	Timeout time.Duration
	Logger  *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// OnInsufficientScope is told about every call refused for a missing
	// scope, for the audit log; nil = nobody is told.
	OnInsufficientScope func(ctx context.Context, id *Identity, tools []string)
	// Issuer is the consent app's origin (AUTH_ISSUER): the settings page a
	// step-up link points to is there (see contract.ClaimStepUp).
	Issuer string
}

// MaxBodyBytes caps an MCP request body. The gate reads the body to find the
// tools being called, so the cap protects it as much as the MCP layer.
const MaxBodyBytes = 1 << 20

// retryAfter is sent with 503s: long enough for Hydra or the database to
// come back, short enough for an agent to retry.
const retryAfter = "5"

// New returns the gate middleware.
func New(opts Options) func(http.Handler) http.Handler {
	g := &gate{
		resource:     opts.Resource,
		metadataURL:  prm.URL(opts.Resource),
		hosts:        newHostPolicy(opts.Resource),
		origins:      newOriginPolicy(opts.Resource),
		introspector: opts.Introspector,
		connections:  opts.Connections,
		timeout:      opts.Timeout,
		log:          opts.Logger,
		now:          opts.Now,
		onDenied:     opts.OnInsufficientScope,
		issuer:       opts.Issuer,
		baseline:     strings.Join(catalog.BaselineNames(), " "),
	}
	if g.timeout == 0 {
		g.timeout = 5 * time.Second
	}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.now == nil {
		g.now = time.Now
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g.serve(w, r, next)
		})
	}
}

type gate struct {
	resource     string
	metadataURL  string
	hosts        hostPolicy
	origins      originPolicy
	introspector introspect.Introspector
	connections  Connections
	timeout      time.Duration
	log          *slog.Logger
	now          func() time.Time
	onDenied     func(ctx context.Context, id *Identity, tools []string)
	issuer       string
	// baseline is the scope a 401 challenge asks for: the catalog's
	// baseline, never offline_access (the client adds that itself when it
	// wants refresh tokens).
	baseline string
}

func (g *gate) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	// DNS rebinding: a page on another site whose name resolves to this
	// server sends its own name as Host.
	if !g.hosts.allows(r.Host) {
		g.log.InfoContext(r.Context(), "refused host", "host", r.Host)
		writeError(w, http.StatusForbidden, "forbidden_host", "this MCP server does not answer for host "+r.Host+"; use "+g.resource)
		return
	}
	// A browser page on another site must not drive the server with a token
	// it obtained some other way (MCP transport security: validate Origin).
	if origin := r.Header.Get("Origin"); !g.origins.allows(origin) {
		g.log.InfoContext(r.Context(), "refused origin", "origin", origin)
		writeError(w, http.StatusForbidden, "forbidden_origin", "requests from origin "+origin+" are not accepted by this MCP server")
		return
	}

	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", bearerChallenge("resource_metadata", g.metadataURL, "scope", g.baseline))
		writeError(w, http.StatusUnauthorized, "unauthorized",
			"send an OAuth access token as 'Authorization: Bearer <token>'; the authorization server is listed at "+g.metadataURL)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), g.timeout)
	id, link, err := g.verify(ctx, token)
	cancel()
	var rej *rejection
	switch {
	case errors.As(err, &rej):
		g.log.InfoContext(r.Context(), "rejected token", "reason", rej.reason, "client_id", rej.clientID)
		w.Header().Set("WWW-Authenticate", bearerChallenge("error", "invalid_token", "resource_metadata", g.metadataURL, "scope", g.baseline))
		writeError(w, http.StatusUnauthorized, "invalid_token", rej.description)
		return
	case err != nil:
		g.unavailable(w, r, err)
		return
	}

	tools, status := calledTools(w, r)
	if status != 0 {
		if status == http.StatusRequestEntityTooLarge {
			writeError(w, status, "request_too_large", fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes))
		} else {
			writeError(w, status, "invalid_request", "the request body could not be read")
		}
		return
	}
	if needed, missing := neededScopes(tools, id); len(missing) > 0 {
		g.log.InfoContext(r.Context(), "insufficient scope", "client_id", id.ClientID, "connection_id", id.ConnectionID, "missing", missing)
		if g.onDenied != nil {
			g.onDenied(r.Context(), id, tools)
		}
		if link != nil {
			if reqID, ok := requestID(r); ok {
				writeStepUpLink(w, reqID, stepUpText(g.issuer, link, id.ConnectionID, missing))
				return
			}
		}
		description := fmt.Sprintf("this call needs the scope %s, which the token was not granted; re-authorize asking for it", missing[0])
		if len(missing) > 1 {
			description = fmt.Sprintf("this call needs the scopes %s, which the token was not granted; re-authorize asking for them", strings.Join(missing, " "))
		}
		w.Header().Set("WWW-Authenticate", insufficientScopeChallenge(needed, g.metadataURL, description))
		writeError(w, http.StatusForbidden, "insufficient_scope", description)
		return
	}

	if g.log.Enabled(r.Context(), slog.LevelDebug) { // the arguments would allocate at info level too
		g.log.DebugContext(r.Context(), "token accepted", "client_id", id.ClientID, "user_id", id.UserID, "team_id", id.TeamID,
			"connection_id", id.ConnectionID, "scopes", id.Scopes, "tools", tools)
	}

	// The MCP layer's answer goes out unless a tool reports that the
	// database failed under it (ReportOutage): then the client gets the 503
	// instead of a tool result.
	o := &outage{}
	ow := &outageWriter{ResponseWriter: w, outage: o, replace: func(w http.ResponseWriter) {
		writeUnavailable(w, "the server's database is unavailable; retry in a few seconds")
	}}
	ctx = context.WithValue(WithIdentity(r.Context(), id), outageKey{}, o)
	next.ServeHTTP(ow, r.WithContext(ctx))
	ow.decide() // in case the MCP layer wrote nothing at all
}

// insufficientScopeChallenge is the WWW-Authenticate value of a step-up 403
// (RFC 6750 §3.1, MCP's scope challenge): the scopes this call needs, where
// the metadata is, and why. The go-sdk's client adds the scopes already
// granted when it re-authorizes.
func insufficientScopeChallenge(needed []string, metadataURL, description string) string {
	return bearerChallenge("error", "insufficient_scope", "scope", strings.Join(needed, " "),
		"resource_metadata", metadataURL, "error_description", description)
}

// bearerChallenge is a Bearer challenge with the auth-params given as name,
// value pairs, each value an RFC 9110 quoted-string. (Go's %q is not one:
// it writes \u00e9 and \x7f, which HTTP reads as letters.) Control
// characters, which no header may carry, become spaces.
func bearerChallenge(params ...string) string {
	var b strings.Builder
	b.WriteString("Bearer ")
	for i := 0; i+1 < len(params); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(params[i])
		b.WriteString(`="`)
		for _, r := range params[i+1] {
			switch {
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r < 0x20 || r == 0x7f:
				b.WriteByte(' ')
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
	}
	return b.String()
}

// errIntrospection and errConnections tell which dependency failed, for the
// 503's message.
var (
	errIntrospection = errors.New("introspection failed")
	errConnections   = errors.New("connection lookup failed")
)

// unavailable answers when a dependency failed: the token may well be good,
// so neither a 401 (which would make clients drop it) nor a 500.
func (g *gate) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	g.log.ErrorContext(r.Context(), "cannot verify token", "err", err)
	if errors.Is(err, errConnections) {
		writeUnavailable(w, "the server's database is unavailable, so the connection behind this token cannot be checked; retry in a few seconds")
		return
	}
	writeUnavailable(w, "the authorization server cannot be reached to verify the access token; retry in a few seconds")
}

func writeUnavailable(w http.ResponseWriter, description string) {
	w.Header().Set("Retry-After", retryAfter)
	writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", description)
}

// bearerToken extracts the token of an RFC 6750 Authorization header. The
// token must be token68 syntax, which also keeps odd bytes out of every
// later step.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return "", false
	}
	body := strings.TrimRight(token, "=")
	for _, c := range []byte(body) {
		if !isToken68(c) {
			return "", false
		}
	}
	return token, body != ""
}

func isToken68(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", c) >= 0
}

// neededScopes returns, in catalog order, the scopes the called tools need
// and those of them the token lacks. Tools the catalog does not know are
// skipped: the MCP layer answers them as unknown.
func neededScopes(tools []string, id *Identity) (needed, missing []string) {
	var want []string
	for _, t := range tools {
		if s, known := catalog.ScopeForTool(t); known && s != "" {
			want = append(want, s)
		}
	}
	needed = catalog.Known(want)
	for _, s := range needed {
		if !id.HasScope(s) {
			missing = append(missing, s)
		}
	}
	return needed, missing
}

// rejection is a token the gate will not accept. description is shown to the
// client; reason is a stable word for the logs.
type rejection struct {
	reason      string
	description string
	clientID    string
}

func (r *rejection) Error() string { return "token rejected: " + r.reason }

// verify applies the contract's token rules. It returns a *rejection for a
// token that is not acceptable and any other error when it cannot tell; for
// a token of a client that is sent step-up links, also what a link needs.
func (g *gate) verify(ctx context.Context, token string) (*Identity, *stepUpLink, error) {
	res, err := g.introspector.Introspect(ctx, token)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errIntrospection, err)
	}
	reject := func(reason, description string) (*Identity, *stepUpLink, error) {
		return nil, nil, &rejection{reason: reason, description: description, clientID: res.ClientID}
	}
	switch {
	case !res.Active:
		return reject("inactive", "the access token is not active (unknown, expired or revoked); obtain a new one")
	case res.TokenUse != "access_token":
		// Hydra reports refresh tokens as active too (docs/design.md quirk 6).
		return reject("not_access_token", "only access tokens are accepted; do not send the refresh token as a bearer token")
	case !slices.Contains(res.Audience, g.resource):
		return reject("wrong_audience", "the access token is not meant for this server; request it with resource="+g.resource)
	case res.Expiry == 0 || !g.now().Before(time.Unix(res.Expiry, 0)):
		return reject("expired", "the access token has expired; refresh it or re-authorize")
	case res.Subject == "":
		return reject("no_subject", "the access token has no user; authorize with a user account")
	}
	teamID, connID := stringClaim(res.Ext, contract.ClaimTeamID), stringClaim(res.Ext, contract.ClaimConnectionID)
	if teamID == "" || connID == "" {
		return reject("no_team", "the access token is not bound to a team connection; re-authorize through the consent screen")
	}

	conn, err := g.connections.Connection(ctx, connID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return reject("unknown_connection", "the connection this token was issued for does not exist; reconnect the client")
	case err != nil:
		return nil, nil, fmt.Errorf("%w: %w", errConnections, err)
	case conn.RevokedAt != nil:
		return reject("revoked_connection", "the connection this token was issued for was revoked; reconnect the client")
	case conn.TeamID != teamID:
		return reject("team_mismatch", "the token's team does not match its connection; reconnect the client")
	}
	// Scopes granted to the connection on the settings pages count as the
	// token's: the client keeps its token, and every replica sees the grant
	// as soon as it commits (the connection cache is dropped on it).
	scopes := strings.Fields(res.Scope)
	for _, s := range catalog.Known(conn.Scopes) {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	var link *stepUpLink
	if stringClaim(res.Ext, contract.ClaimStepUp) == contract.StepUpByLink && g.issuer != "" {
		link = &stepUpLink{teamName: conn.TeamName}
	}
	return &Identity{
		UserID:       res.Subject,
		TeamID:       teamID,
		TeamSlug:     stringClaim(res.Ext, contract.ClaimTeamSlug),
		ConnectionID: connID,
		ClientID:     res.ClientID,
		Scopes:       scopes,
	}, link, nil
}

// stringClaim returns ext[key] if it is a string, else "": a number or an
// object where an id belongs is as good as missing.
func stringClaim(ext map[string]any, key string) string {
	s, _ := ext[key].(string)
	return s
}

// Package register is our OAuth 2.0 Dynamic Client Registration endpoint
// (RFC 7591). Hydra's own endpoint would let a client choose its audience,
// token lifetimes and the client_credentials grant, and its response carries
// nulls that MCP clients reject (docs/design.md quirk 2). This front accepts only
// what an MCP client needs, forces the scope and audience, creates the client
// through Hydra's admin API and answers with clean RFC 7591 JSON.
package register

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/authorize"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/loopback"
	"github.com/mcp-oauth/consent-app/internal/oautherr"
	"github.com/mcp-oauth/consent-app/internal/telemetry"
)

// Limits on what one registration may contain.
const (
	MaxBodyBytes    = 64 << 10
	MaxRedirectURIs = 10
	maxURILength    = 2000
	maxNameLength   = 200
)

// Metadata is the client metadata we accept (RFC 7591 §2). Other members are
// ignored, as the RFC requires, except the ones listed in refused.
type Metadata struct {
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ClientURI               string   `json:"client_uri"`
	LogoURI                 string   `json:"logo_uri"`
	Scope                   string   `json:"scope"`
}

// refused are members a client may not set: we choose them.
var refused = []string{"client_id", "client_secret", "audience", "jwks", "jwks_uri",
	"client_secret_expires_at", "registration_access_token"}

// invalidMetadata and invalidRedirect are RFC 7591 §3.2.2 errors.
func invalidMetadata(format string, a ...any) *oautherr.Error {
	return oautherr.New(oautherr.InvalidClientMetadata, fmt.Sprintf(format, a...))
}

func invalidRedirect(format string, a ...any) *oautherr.Error {
	return oautherr.New(oautherr.InvalidRedirectURI, fmt.Sprintf(format, a...))
}

// GrantTypes are the grants a client may register.
var GrantTypes = []string{"authorization_code", "refresh_token"}

var allowedAuthMethods = []string{"none", "client_secret_basic", "client_secret_post"}

// blockedSchemes can never be redirect targets: they run code or read local
// data in the browser.
var blockedSchemes = []string{"javascript", "data", "vbscript", "file", "about", "blob"}

// Validate checks the metadata and fills in defaults. It is pure.
func Validate(m *Metadata) *oautherr.Error {
	if len(m.ClientName) > maxNameLength {
		return invalidMetadata("client_name is longer than %d characters", maxNameLength)
	}
	if strings.ContainsFunc(m.ClientName, HiddenRune) {
		return invalidMetadata("client_name contains control or invisible formatting characters; use plain text")
	}
	if len(m.RedirectURIs) == 0 {
		return invalidRedirect("redirect_uris is required: list the URIs the authorization response may be sent to")
	}
	if len(m.RedirectURIs) > MaxRedirectURIs {
		return invalidRedirect("at most %d redirect_uris are allowed", MaxRedirectURIs)
	}
	for _, raw := range m.RedirectURIs {
		if err := checkRedirectURI(raw); err != nil {
			return err
		}
	}
	if len(m.GrantTypes) == 0 {
		// Every MCP client we serve refreshes; registering both by default
		// gives clients that omit the member a refresh token too.
		m.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if !slices.Contains(m.GrantTypes, "authorization_code") {
		return invalidMetadata("grant_types must include authorization_code")
	}
	for _, g := range m.GrantTypes {
		if !slices.Contains(GrantTypes, g) {
			return invalidMetadata("grant type %q is not supported; use authorization_code and refresh_token", g)
		}
	}
	if len(m.ResponseTypes) == 0 {
		m.ResponseTypes = []string{"code"}
	}
	if !slices.Equal(m.ResponseTypes, []string{"code"}) {
		return invalidMetadata("response_types must be [\"code\"]")
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = "client_secret_basic" // RFC 7591 §2 default
	}
	if !slices.Contains(allowedAuthMethods, m.TokenEndpointAuthMethod) {
		return invalidMetadata("token_endpoint_auth_method must be one of %s", strings.Join(allowedAuthMethods, ", "))
	}
	for name, v := range map[string]string{"client_uri": m.ClientURI, "logo_uri": m.LogoURI} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" || len(v) > maxURILength {
			return invalidMetadata("%s must be an https URL", name)
		}
	}
	return nil
}

// HiddenRune reports control characters (a NUL the database refuses, line
// breaks) and invisible formatting such as bidi overrides, which would let a
// name shown on the consent page read differently from what it is.
func HiddenRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

func checkRedirectURI(raw string) *oautherr.Error {
	if len(raw) > maxURILength {
		return invalidRedirect("a redirect URI is longer than %d characters", maxURILength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return invalidRedirect("%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalidRedirect("%q has a fragment; redirect URIs must not", raw)
	}
	if u.User != nil {
		return invalidRedirect("%q carries user information", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case slices.Contains(blockedSchemes, scheme):
		return invalidRedirect("the %s: scheme is not allowed in redirect URIs", scheme)
	case scheme == "https":
		if u.Host == "" {
			return invalidRedirect("%q has no host", raw)
		}
	case loopback.UsesStandIn(raw):
		return invalidRedirect("%s is reserved by this server; use localhost, 127.0.0.1 or [::1]", loopback.StandInHost)
	case scheme == "http":
		if !authorize.IsLoopback(u.Hostname()) {
			return invalidRedirect("%q uses http on a non-loopback host; use https, or http on localhost, 127.0.0.1 or [::1]", raw)
		}
	default:
		// A private-use scheme of a native app (RFC 8252 §7.1), such as
		// cursor:// or vscode://.
	}
	return nil
}

// HydraClient is the Hydra client for validated metadata. Whatever the
// client asked for, the scope is the whole catalog plus offline_access and
// the audience is the MCP server alone (docs/design.md quirks 2, 3 and 5). Its
// redirect URIs are in Hydra's form (package loopback).
func HydraClient(m Metadata, mcpResourceURL string) hydra.OAuth2Client {
	scope := strings.Join(catalog.ClientScopes(), " ")
	cl := hydra.OAuth2Client{
		ClientName:              &m.ClientName,
		RedirectUris:            loopback.HydraForms(m.RedirectURIs),
		GrantTypes:              m.GrantTypes,
		ResponseTypes:           m.ResponseTypes,
		TokenEndpointAuthMethod: &m.TokenEndpointAuthMethod,
		Scope:                   &scope,
		Audience:                []string{mcpResourceURL},
	}
	if m.ClientURI != "" {
		cl.ClientUri = &m.ClientURI
	}
	if m.LogoURI != "" {
		cl.LogoUri = &m.LogoURI
	}
	return cl
}

// registeredVia, under registeredViaKey in a Hydra client's metadata, marks
// the clients this front created.
const (
	registeredViaKey = "registered_via"
	registeredVia    = "dynamic_client_registration"
)

// SelfRegistered reports whether this front created the client: those are
// the clients the hygiene job may delete when they go unused.
func SelfRegistered(c *hydra.OAuth2Client) bool {
	m, _ := c.GetMetadata().(map[string]any)
	return m[registeredViaKey] == registeredVia
}

// Response is the RFC 7591 §3.2.1 answer. Empty members are omitted: MCP
// clients reject nulls and empty strings.
type Response struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope"`
	ClientURI               string   `json:"client_uri,omitempty"`
	LogoURI                 string   `json:"logo_uri,omitempty"`
}

// Handler serves POST /oauth2/register.
type Handler struct {
	Hydra          hydraadmin.Admin
	MCPResourceURL string
	Log            *slog.Logger
	// Metrics counts outcomes; nil counts nothing.
	Metrics *telemetry.Metrics
}

// Register handles a registration request.
func (h *Handler) Register(c *gin.Context) {
	defer func() { h.Metrics.Registration(registrationOutcome(c.Writer.Status())) }()
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			oautherr.Write(c.Writer, http.StatusRequestEntityTooLarge, invalidMetadata("the registration body is larger than %d bytes", MaxBodyBytes))
			return
		}
		refuse(c, "the registration body could not be read")
		return
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		refuse(c, "the body must be a JSON object of client metadata (RFC 7591)")
		return
	}
	for _, name := range refused {
		if _, ok := members[name]; ok {
			refuse(c, name+" is assigned by this server and may not be chosen by the client")
			return
		}
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		refuse(c, "a member has the wrong type: "+jsonFieldError(err))
		return
	}
	if verr := Validate(&m); verr != nil {
		h.Log.DebugContext(c, "registration refused", "error", verr.Code, "error_description", verr.Description)
		oautherr.Write(c.Writer, http.StatusBadRequest, verr)
		return
	}
	cl := HydraClient(m, h.MCPResourceURL)
	cl.Metadata = map[string]any{registeredViaKey: registeredVia}
	created, err := h.Hydra.CreateClient(c, cl)
	if err != nil {
		if errors.Is(err, hydraadmin.ErrRejected) {
			h.Log.WarnContext(c, "hydra refused a registration", "err", err)
			refuse(c, "the client metadata was refused by the authorization server")
			return
		}
		h.Log.ErrorContext(c, "register client", "err", err)
		oautherr.Unavailable(c.Writer, "registration is unavailable; try again shortly")
		return
	}
	resp := Response{
		ClientID:                created.GetClientId(),
		ClientSecret:            created.GetClientSecret(),
		ClientIDIssuedAt:        created.GetCreatedAt().Unix(),
		ClientName:              m.ClientName,
		RedirectURIs:            m.RedirectURIs,
		GrantTypes:              m.GrantTypes,
		ResponseTypes:           m.ResponseTypes,
		TokenEndpointAuthMethod: m.TokenEndpointAuthMethod,
		Scope:                   cl.GetScope(),
		ClientURI:               m.ClientURI,
		LogoURI:                 m.LogoURI,
	}
	if created.GetCreatedAt().IsZero() {
		resp.ClientIDIssuedAt = time.Now().Unix()
	}
	if resp.ClientSecret != "" {
		never := int64(0)
		resp.ClientSecretExpiresAt = &never
	}
	h.Log.InfoContext(c, "client registered", "client_id", resp.ClientID, "client_name", m.ClientName,
		"auth_method", m.TokenEndpointAuthMethod, "redirect_uris", m.RedirectURIs)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, resp)
}

// refuse answers 400 invalid_client_metadata with description.
func refuse(c *gin.Context, description string) {
	oautherr.Write(c.Writer, http.StatusBadRequest, oautherr.New(oautherr.InvalidClientMetadata, description))
}

func jsonFieldError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s must be %s", te.Field, te.Type)
	}
	return "malformed JSON"
}

func registrationOutcome(status int) string {
	switch {
	case status == http.StatusCreated:
		return "created"
	case status >= 500:
		return "unavailable"
	}
	return "invalid"
}

package edge

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/loopback"
	"github.com/mcp-oauth/consent-app/internal/oautherr"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// ProxiedPaths are Hydra's public endpoints served at the auth origin.
var ProxiedPaths = []string{
	"/oauth2/auth",
	"/oauth2/token",
	"/oauth2/revoke",
	"/oauth2/sessions/logout",
	"/userinfo",
	"/.well-known/jwks.json",
}

// maxFormBytes bounds a token or revocation request body we read to
// translate its client_id.
const maxFormBytes = 64 << 10

// ClientIDResolver turns a Client ID Metadata Document URL into the id of
// the Hydra client standing for it (see package clientmeta).
type ClientIDResolver interface {
	Resolve(ctx context.Context, clientIDURL, redirectURI string) (hydraClientID string, err error)
}

// Proxy is the reverse proxy to Hydra's public listener, with what Hydra
// v2.3.0 lacks added on the way: URL-shaped client ids (docs/design.md quirk 14),
// localhost redirect URIs on any port (package loopback), unknown scopes
// dropped (trap 5) and RFC 9207 `iss` on authorization responses.
type Proxy struct {
	// HydraPublic is Hydra's public listener.
	HydraPublic *url.URL
	// Issuer is our own origin, the issuer. Hydra learns the original scheme
	// from X-Forwarded-Proto.
	Issuer *url.URL
	// Clients resolves client_id URLs at the authorization endpoint; nil
	// refuses them.
	Clients ClientIDResolver
	// Locale translates the pages shown when a request is refused here.
	Locale *locale.Catalog
	Log    *slog.Logger
}

// Handler returns the proxy as an http.Handler.
func (p *Proxy) Handler() http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.HydraPublic)
			r.SetXForwarded()
			r.Out.Header.Set("X-Forwarded-Proto", p.Issuer.Scheme)
			r.Out.Host = p.Issuer.Host
		},
		ModifyResponse: p.modifyResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.Log.ErrorContext(r.Context(), "hydra public endpoint unreachable", "path", r.URL.Path, "err", err)
			oautherr.Unavailable(w, "the authorization server is unavailable; try again shortly")
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oauth2/auth":
			if !p.prepareAuthorize(w, r) {
				return
			}
		case "/oauth2/token", "/oauth2/revoke":
			if !p.prepareClientForm(w, r) {
				return
			}
		}
		rp.ServeHTTP(w, r)
	})
}

// prepareAuthorize rewrites an authorization request for Hydra, or answers
// it itself when it cannot be served. It reports whether to proxy.
func (p *Proxy) prepareAuthorize(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	l := func() *locale.Localizer { return p.Locale.For(w, r, q.Get("ui_locales")) }
	// Only the query response mode carries the iss parameter we add.
	if mode := q.Get("response_mode"); mode != "" && mode != "query" {
		web.Error(w, r, l(), web.Problem{Status: http.StatusBadRequest, TitleID: "error.flow.title", TextID: "edge.response_mode",
			Detail: "response_mode=" + mode + " is not supported; use response_mode=query."})
		return false
	}
	if clientID := q.Get("client_id"); clientmeta.IsURL(clientID) {
		if p.Clients == nil {
			web.Error(w, r, l(), web.Problem{Status: http.StatusBadRequest, TitleID: "error.flow.title", TextID: "edge.url_client_id"})
			return false
		}
		id, err := p.Clients.Resolve(r.Context(), clientID, q.Get("redirect_uri"))
		var ce *clientmeta.Error
		switch {
		case errors.As(err, &ce):
			p.Log.InfoContext(r.Context(), "client metadata document refused", "client_id", clientID, "reason", ce.Description)
			web.Error(w, r, l(), web.Problem{Status: http.StatusBadRequest, TitleID: "edge.identify.title", TextID: "edge.identify.message", Detail: ce.Description})
			return false
		case err != nil:
			p.Log.ErrorContext(r.Context(), "resolve client metadata document", "client_id", clientID, "err", err)
			oautherr.SetRetryAfter(w.Header())
			web.Error(w, r, l(), web.Unavailable)
			return false
		}
		q.Set("client_id", id)
	}
	if q.Has("redirect_uri") {
		q.Set("redirect_uri", loopback.HydraForm(q.Get("redirect_uri")))
	}
	// The settings pages' own client asks for openid, which no MCP client
	// may have; it is registered with exactly that scope.
	if !firstparty.Is(q.Get("client_id")) {
		requested := q.Get("scope")
		if q = FilterScopes(q); q.Get("scope") != requested {
			p.Log.DebugContext(r.Context(), "unserved scopes dropped", "client_id", q.Get("client_id"), "requested", requested, "kept", q.Get("scope"))
		}
	}
	r.URL.RawQuery = q.Encode()
	return true
}

// prepareClientForm translates a client_id URL in a token or revocation
// request — in the form or as the Basic user name — to its Hydra id, and
// the redirect_uri a code exchange repeats to the form Hydra was shown. It
// reports whether to proxy.
func (p *Proxy) prepareClientForm(w http.ResponseWriter, r *http.Request) bool {
	if user, pass, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil && clientmeta.IsURL(id) {
			r.SetBasicAuth(url.QueryEscape(clientmeta.TranslateClientID(id)), pass)
		}
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return true
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		oautherr.Write(w, http.StatusRequestEntityTooLarge, oautherr.New(oautherr.InvalidRequest, "the request body is too large"))
		return false
	}
	form, err := url.ParseQuery(string(body))
	if err == nil {
		changed := false
		if id := form.Get("client_id"); clientmeta.IsURL(id) {
			form.Set("client_id", clientmeta.TranslateClientID(id))
			changed = true
		}
		if uri := form.Get("redirect_uri"); loopback.HydraForm(uri) != uri {
			form.Set("redirect_uri", loopback.HydraForm(uri))
			changed = true
		}
		if changed {
			body = []byte(form.Encode())
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	return true
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	// CORS is ours (see CORS); Hydra's own must not double it.
	for name := range resp.Header {
		if strings.HasPrefix(name, "Access-Control-") {
			resp.Header.Del(name)
		}
	}
	if resp.Request.URL.Path == "/oauth2/auth" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc := loopback.ClientForm(resp.Header.Get("Location"))
		if withIss, ok := WithIssuer(loc, p.Issuer); ok {
			loc = withIss
			p.logAuthorizationResponse(resp.Request.Context(), loc)
		}
		resp.Header.Set("Location", loc)
	}
	return nil
}

// logAuthorizationResponse logs, at debug level, how an authorization
// request ended: with a code (never the code itself) or with an error.
func (p *Proxy) logAuthorizationResponse(ctx context.Context, location string) {
	u, err := url.Parse(location)
	if err != nil {
		return
	}
	outcome := "code"
	if e := u.Query().Get("error"); e != "" {
		outcome = "error " + e
	}
	p.Log.DebugContext(ctx, "authorization response", "redirect_host", u.Host, "outcome", outcome)
}

// WithIssuer adds RFC 9207's iss to an authorization response — a redirect
// to the client carrying code or error — so that a client talking to several
// authorization servers can tell which one answered. Redirects within our
// own origin (to sign-in, consent or the error page) are left alone.
func WithIssuer(location string, issuer *url.URL) (string, bool) {
	u, err := url.Parse(location)
	if err != nil || (u.Scheme == issuer.Scheme && u.Host == issuer.Host) || u.Host == "" && u.Scheme == "" {
		return "", false
	}
	q := u.Query()
	if !(q.Has("code") || q.Has("error")) || q.Has("iss") {
		return "", false
	}
	// Appended to the bytes Hydra wrote, which are the client's own redirect
	// URI: re-encoding the parsed URL could change them.
	base, fragment, hasFragment := strings.Cut(location, "#")
	sep := "&"
	if u.RawQuery == "" {
		sep = "?"
		if strings.HasSuffix(base, "?") {
			sep = ""
		}
	}
	out := base + sep + "iss=" + url.QueryEscape(issuer.String())
	if hasFragment {
		out += "#" + fragment
	}
	return out, true
}

// FilterScopes drops requested scopes we do not serve, so that a client
// asking for, say, `openid profile` still gets through: Hydra would refuse
// the whole request for a scope outside the client's registration (docs/design.md
// quirk 5), and unknown scopes must never block the flow.
func FilterScopes(q url.Values) url.Values {
	if !q.Has("scope") {
		return q
	}
	requested := strings.Fields(q.Get("scope"))
	kept := catalog.Known(requested)
	for _, s := range requested {
		if s == catalog.OfflineAccess {
			kept = append(kept, s)
			break
		}
	}
	q.Set("scope", strings.Join(kept, " "))
	return q
}

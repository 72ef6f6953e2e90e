package edge

import (
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/mcp-oauth/catalog"
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

// NewProxy returns a reverse proxy to Hydra's public listener. publicURL is
// our own origin: Hydra learns the original scheme from X-Forwarded-Proto.
func NewProxy(hydraPublic *url.URL, publicURL *url.URL, log *slog.Logger) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(hydraPublic)
			r.SetXForwarded()
			r.Out.Header.Set("X-Forwarded-Proto", publicURL.Scheme)
			r.Out.Host = publicURL.Host
			if r.In.URL.Path == "/oauth2/auth" {
				r.Out.URL.RawQuery = FilterScopes(r.In.URL.Query()).Encode()
			}
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Error("hydra public endpoint unreachable", "path", r.URL.Path, "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"the authorization server is unavailable; try again shortly"}`))
		},
	}
}

// FilterScopes drops requested scopes we do not serve, so that a client
// asking for, say, `openid profile` still gets through: Hydra would refuse
// the whole request for a scope outside the client's registration (DESIGN.md
// trap 5), and unknown scopes must never block the flow.
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

// Package authorize reads the original authorization request that Hydra hands
// to the login and consent steps (its request_url) and decides whether we
// accept it. Hydra v2.3.0 ignores RFC 8707 `resource` and checks PKCE only at
// the token endpoint, after the user has already signed in and approved; we
// refuse such requests before the user does any work.
package authorize

import (
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/loopback"
)

// Request is what we need from an authorization request.
type Request struct {
	// Resources are the RFC 8707 resource indicators, none when absent. A
	// client may send several; every one counts, not just the first.
	Resources []string
	// RedirectURI is the client's redirect URI as requested (Hydra sees
	// its loopback.HydraForm).
	RedirectURI string
	// CodeChallengeMethod is "" when no code_challenge was sent.
	CodeChallengeMethod string
	// UILocales is the OpenID Connect ui_locales parameter: the languages
	// the client would like the pages in, space-separated.
	UILocales string
}

// Parse reads the authorization request from Hydra's request_url.
func Parse(requestURL string) (Request, error) {
	u, err := url.Parse(requestURL)
	if err != nil {
		return Request{}, err
	}
	q := u.Query()
	r := Request{Resources: q["resource"], RedirectURI: loopback.ClientForm(q.Get("redirect_uri")), UILocales: q.Get("ui_locales")}
	if q.Get("code_challenge") != "" {
		r.CodeChallengeMethod = q.Get("code_challenge_method")
		if r.CodeChallengeMethod == "" {
			r.CodeChallengeMethod = "plain" // RFC 7636's default
		}
	}
	return r, nil
}

// Check returns the rejection for a request we do not serve, or nil. The
// only resource we issue tokens for is mcpURL; a request without `resource`
// (older clients) gets it too.
func Check(r Request, mcpURL string) *hydraadmin.Rejection {
	switch {
	case r.CodeChallengeMethod == "":
		return &hydraadmin.Rejection{Error: "invalid_request", Description: "PKCE is required: send code_challenge with code_challenge_method=S256."}
	case r.CodeChallengeMethod != "S256":
		return &hydraadmin.Rejection{Error: "invalid_request", Description: "Only the S256 PKCE method is supported; code_challenge_method=" + r.CodeChallengeMethod + " is not."}
	case slices.ContainsFunc(r.Resources, func(res string) bool { return res != mcpURL }):
		return &hydraadmin.Rejection{Error: "invalid_target", Description: "Unknown resource; the only resource served here is " + mcpURL + "."}
	}
	return nil
}

// RedirectHost returns where the client's redirect goes, as shown to the
// user, and whether that is a program on the user's own computer: a loopback
// address (shown without its port, which tells a person nothing) or a
// private-use scheme such as cursor:, which any local app may claim.
func (r Request) RedirectHost() (host string, local bool) {
	u, err := url.Parse(r.RedirectURI)
	switch {
	case err != nil || u.Scheme == "":
		return "", false
	case u.Scheme != "http" && u.Scheme != "https":
		return u.Scheme + ":", true
	case IsLoopback(u.Hostname()):
		return u.Hostname(), true
	}
	return u.Host, false
}

// IsLoopback reports whether host names this computer.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

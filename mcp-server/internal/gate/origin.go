package gate

import (
	"net"
	"net/url"
	"strings"

	"github.com/mcp-oauth/mcp-server/internal/config"
)

// originPolicy decides which browser origins may call the MCP endpoint:
// the MCP URL's own origin, and any loopback origin when the server itself
// is loopback (local tools such as the MCP Inspector run on other ports).
type originPolicy struct {
	scheme, host, port string
	loopback           bool
}

func newOriginPolicy(resource string) originPolicy {
	u, _ := url.Parse(resource)
	return originPolicy{
		scheme:   u.Scheme,
		host:     strings.ToLower(u.Hostname()),
		port:     effectivePort(u),
		loopback: config.IsLoopback(u.Hostname()),
	}
}

// allows reports whether a request with this Origin header may proceed.
// Requests without Origin (non-browser clients) may.
func (p originPolicy) allows(origin string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false // includes the opaque origin "null"
	}
	if p.loopback && config.IsLoopback(u.Hostname()) {
		return true
	}
	return strings.EqualFold(u.Scheme, p.scheme) && strings.EqualFold(u.Hostname(), p.host) && effectivePort(u) == p.port
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// hostPolicy decides which Host headers the MCP endpoint answers: the MCP
// URL's own host name, and loopback names (a local client, or a reverse
// proxy on the same machine that forwards to 127.0.0.1 under that name). A
// DNS rebinding attack arrives with the attacker's name as Host, which is
// neither. Ports are not compared: behind a proxy Host carries the public
// port or none, and rebinding changes names, not ports.
//
// This replaces the go-sdk's localhost protection behind a reverse proxy,
// where the SDK would refuse every request (see server.Handler).
type hostPolicy struct{ host string }

func newHostPolicy(resource string) hostPolicy {
	u, _ := url.Parse(resource)
	return hostPolicy{host: strings.ToLower(u.Hostname())}
}

func (p hostPolicy) allows(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return host != "" && (strings.EqualFold(host, p.host) || config.IsLoopback(host))
}

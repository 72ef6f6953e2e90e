package loopback

import (
	"net/url"
	"slices"
	"strings"
)

// StandInHost is the loopback address Hydra sees in place of localhost. Any
// address in 127.0.0.0/8 gets Hydra's any-port match; this one (8252, the
// RFC) is reserved for the purpose: no client may register it.
const StandInHost = "127.82.52.1"

const (
	localhostPrefix = "http://localhost"
	standInPrefix   = "http://" + StandInHost
)

// HydraForm returns uri as Hydra must see it: an http URI on localhost
// with that host replaced by StandInHost, every other byte kept; any other
// URI unchanged. Only the lower-case spelling is rewritten, so an unusual
// one is matched exactly, as before.
func HydraForm(uri string) string {
	if rest, ok := afterHost(uri, localhostPrefix); ok {
		return standInPrefix + rest
	}
	return uri
}

// ClientForm undoes HydraForm.
func ClientForm(uri string) string {
	if rest, ok := afterHost(uri, standInPrefix); ok {
		return localhostPrefix + rest
	}
	return uri
}

// HydraForms applies HydraForm to each URI, for a client registered in
// Hydra.
func HydraForms(uris []string) []string {
	out := make([]string, len(uris))
	for i, u := range uris {
		out[i] = HydraForm(u)
	}
	return out
}

// UsesStandIn reports whether uri names StandInHost, which registration
// refuses: ClientForm would turn it into localhost.
func UsesStandIn(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Hostname() == StandInHost
}

// afterHost returns what follows prefix (scheme and host) in uri, when the
// host ends there: at a port, path, query, fragment or the end.
func afterHost(uri, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, prefix)
	if !ok || rest != "" && !strings.ContainsRune(":/?#", rune(rest[0])) {
		return "", false
	}
	return rest, true
}

// portFree are the hosts whose http redirect URIs match on any port (RFC
// 8252 §7.3, and §8.3's localhost, which the real clients use).
var portFree = []string{"localhost", "127.0.0.1", "::1"}

// Match reports whether requested may be used as a redirect URI of a client
// that registered the given URIs: it equals one of them, or it is an http
// URI on a loopback host and equals one that differs only in its port (or
// has none). Scheme, host, path and query must be the same.
func Match(registered []string, requested string) bool {
	if slices.Contains(registered, requested) {
		return true
	}
	req, ok := loopbackURL(requested)
	if !ok {
		return false
	}
	return slices.ContainsFunc(registered, func(r string) bool {
		reg, ok := loopbackURL(r)
		return ok && reg.Hostname() == req.Hostname() && reg.EscapedPath() == req.EscapedPath() &&
			reg.RawQuery == req.RawQuery && reg.ForceQuery == req.ForceQuery
	})
}

// loopbackURL parses uri when it is an http URI on a port-free host with
// nothing that could hide another destination (user information, a
// fragment).
func loopbackURL(uri string) (*url.URL, bool) {
	if !strings.HasPrefix(uri, "http://") {
		return nil, false
	}
	u, err := url.Parse(uri)
	if err != nil || u.User != nil || u.Fragment != "" || u.Opaque != "" ||
		!slices.Contains(portFree, u.Hostname()) {
		return nil, false
	}
	return u, true
}

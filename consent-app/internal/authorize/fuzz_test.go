package authorize

import (
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzParse reads arbitrary request URLs: what Parse returns is what the
// query says, Check lets through only S256 requests for our resource, and
// a redirect is "local" only for loopback hosts and private-use schemes.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"http://localhost:3000/oauth2/auth?client_id=c&code_challenge=abc&code_challenge_method=S256&resource=http%3A%2F%2Flocalhost%3A8080%2Fmcp&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
		"/oauth2/auth?code_challenge=x&resource=a&resource=" + url.QueryEscape(mcp),
		"http://x/?redirect_uri=cursor%3A%2F%2Fcb&ui_locales=de%20fr",
		"http://x/?redirect_uri=http%3A%2F%2Flocalhost.evil.example%2Fcb",
		"http://x/?redirect_uri=http%3A%2F%2F%5B%3A%3A1%5D%3A80%2F",
		"%zz", "http://x/?a=%zz&code_challenge=y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, requestURL string) {
		r, err := Parse(requestURL)
		if err != nil {
			return
		}
		q := mustQuery(requestURL)
		if !slices.Equal(r.Resources, q["resource"]) || r.RedirectURI != q.Get("redirect_uri") || r.UILocales != q.Get("ui_locales") {
			t.Fatalf("Parse(%q) = %+v, which is not what the query says", requestURL, r)
		}
		if Check(r, mcp) == nil {
			if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" {
				t.Fatalf("Check let %q through without S256 PKCE", requestURL)
			}
			if slices.ContainsFunc(q["resource"], func(res string) bool { return res != mcp }) {
				t.Fatalf("Check let %q through for another resource", requestURL)
			}
		}
		host, local := r.RedirectHost()
		u, perr := url.Parse(r.RedirectURI)
		if local && (perr != nil || (u.Scheme == "http" || u.Scheme == "https") && !IsLoopback(u.Hostname())) {
			t.Fatalf("redirect %q called local", r.RedirectURI)
		}
		if !local && host != "" && (u.Scheme != "http" && u.Scheme != "https" || IsLoopback(u.Hostname())) {
			t.Fatalf("redirect %q (host %q) not called local", r.RedirectURI, host)
		}
	})
}

func mustQuery(requestURL string) url.Values {
	u, _ := url.Parse(requestURL)
	return u.Query()
}

// FuzzIsLoopback: only names and addresses of this computer are loopback.
func FuzzIsLoopback(f *testing.F) {
	for _, s := range []string{"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost.", "127.0.0.1.nip.io", "0x7f.1", "2130706433", "localhost\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !IsLoopback(host) {
			return
		}
		if strings.EqualFold(host, "localhost") {
			return
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.IsLoopback() {
			t.Fatalf("IsLoopback(%q) for something that is not a loopback address", host)
		}
	})
}

package edge

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-oauth/catalog"
)

// FuzzFilterScopes: what reaches Hydra is the requested catalog scopes in
// catalog order and offline_access at most once, at the end; filtering
// again changes nothing.
func FuzzFilterScopes(f *testing.F) {
	for _, s := range []string{"invoices:read openid profile offline_access", "offline_access offline_access", "bogus", "accounting:write\u00a0invoices:read", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, scope string) {
		got := FilterScopes(url.Values{"scope": {scope}}).Get("scope")
		fields := strings.Fields(got)
		want := catalog.Known(strings.Fields(scope))
		if slices.Contains(strings.Fields(scope), catalog.OfflineAccess) {
			want = append(want, catalog.OfflineAccess)
		}
		if !slices.Equal(fields, want) {
			t.Fatalf("FilterScopes(%q) = %q, want %q", scope, got, strings.Join(want, " "))
		}
		if again := FilterScopes(url.Values{"scope": {got}}).Get("scope"); again != got {
			t.Fatalf("filtering %q again gave %q", got, again)
		}
	})
}

// FuzzWithIssuer: iss is added only to an authorization response — a code
// or an error — leaving the auth origin, and nothing else of the redirect
// changes.
func FuzzWithIssuer(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:53682/callback?code=abc&state=xyz",
		"cursor://callback?error=access_denied",
		"http://localhost:3000/login?login_challenge=x",
		"https://app.example/cb?code=a&iss=http%3A%2F%2Fevil",
		"https://app.example/cb?code=a#frag",
		"/relative?code=a",
		"https://app.example/cb?code=a;b=c",
		"https://app.example/cb?%69ss=x&code=1",
	} {
		f.Add(s)
	}
	issuer, _ := url.Parse("http://localhost:3000")
	f.Fuzz(func(t *testing.T, location string) {
		out, ok := WithIssuer(location, issuer)
		if !ok {
			return
		}
		in, err := url.Parse(location)
		if err != nil {
			t.Fatalf("%q: changed a location that does not parse", location)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("%q became %q, which does not parse: %v", location, out, err)
		}
		if in.Host == issuer.Host && in.Scheme == issuer.Scheme || in.Host == "" && in.Scheme == "" {
			t.Fatalf("%q: iss added to a redirect within the auth origin", location)
		}
		q, orig := u.Query(), in.Query()
		if !orig.Has("code") && !orig.Has("error") || orig.Has("iss") {
			t.Fatalf("%q: iss added to a redirect that is no authorization response", location)
		}
		if q.Get("iss") != issuer.String() || len(q["iss"]) != 1 {
			t.Fatalf("%q became %q: iss %q", location, out, q["iss"])
		}
		q.Del("iss")
		if u.Scheme != in.Scheme || u.Host != in.Host || u.Path != in.Path || u.Fragment != in.Fragment || q.Encode() != orig.Encode() {
			t.Fatalf("%q became %q: more than iss changed", location, out)
		}
	})
}

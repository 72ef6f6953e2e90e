package clientmeta

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-oauth/consent-app/internal/authorize"
	"github.com/mcp-oauth/consent-app/internal/register"
)

// FuzzParseURL: an accepted client identifier is an https URL (http only
// for loopback in development mode) with a host and a real path, and
// nothing that could make two spellings name one client: no user
// information, query, fragment or dot segments.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"https://app.example.com/oauth/client.json", "https://app.example.com", "http://localhost:9000/c", "https://a/%2e%2e/c", "https://a/b/..", "HTTPS://A/b", "https://[::1]:1/c", "https://a/\xff", "https://a@b/c", "//a/b"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowLoopback bool) {
		u, err := ParseURL(raw, allowLoopback)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ParseURL(%q) failed with %T, not *Error", raw, err)
			}
			return
		}
		loopback := authorize.IsLoopback(u.Hostname())
		switch {
		case u.Host == "" || u.Path == "" || u.Path == "/" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
			t.Fatalf("ParseURL(%q) accepted %#v", raw, u)
		case u.Scheme != "https" && !(u.Scheme == "http" && loopback):
			t.Fatalf("ParseURL(%q) accepted scheme %q", raw, u.Scheme)
		case loopback && !allowLoopback:
			t.Fatalf("ParseURL(%q) accepted a loopback host outside development mode", raw)
		case strings.ContainsAny(raw, "#?"):
			t.Fatalf("ParseURL(%q) accepted a query or fragment", raw)
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("ParseURL(%q) accepted a dot segment", raw)
			}
		}
		if !strings.HasPrefix(HydraID(raw), "cimd-") || strings.ContainsAny(HydraID(raw), "/?#%") {
			t.Fatalf("HydraID(%q) = %q", raw, HydraID(raw))
		}
	})
}

// FuzzValidateDocument: an accepted document names itself, carries no
// secret, authenticates with none, and passes the registration rules.
func FuzzValidateDocument(f *testing.F) {
	const id = "https://app.example.com/client.json"
	for _, s := range []string{
		`{"client_id":"` + id + `","client_name":"App","redirect_uris":["https://app.example.com/cb"]}`,
		`{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"client_secret_basic"}`,
		`{"client_id":"` + id + `","redirect_uris":["https://a/cb"],"client_secret":"s"}`,
		`{"client_id":"https://other.example/client.json","redirect_uris":["https://a/cb"]}`,
		`{"client_id":"` + id + `","redirect_uris":["https://a/cb"],"CLIENT_ID":"x","Client_Secret":"y"}`,
		`{"client_id":"` + id + `","redirect_uris":["javascript:x"]}`,
		`[]`, `null`, `{"client_id":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ValidateDocument(body, id)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("ValidateDocument failed with %T, not *Error", err)
			}
			return
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(body, &members) != nil {
			t.Fatalf("accepted %q, which is no JSON object", body)
		}
		// Member names are case-sensitive (RFC 7591): "Client_Secret" is
		// an unknown member, ignored like any other.
		for _, name := range []string{"client_secret", "client_secret_expires_at"} {
			if _, ok := members[name]; ok {
				t.Fatalf("accepted a document with %s: %q", name, body)
			}
		}
		var doc struct {
			ClientID string `json:"client_id"`
		}
		if json.Unmarshal(body, &doc) != nil || doc.ClientID != id {
			t.Fatalf("accepted a document that names %q: %q", doc.ClientID, body)
		}
		if m.TokenEndpointAuthMethod != "none" {
			t.Fatalf("accepted auth method %q", m.TokenEndpointAuthMethod)
		}
		again := m
		if verr := register.Validate(&again); verr != nil || !slices.Equal(again.RedirectURIs, m.RedirectURIs) {
			t.Fatalf("accepted metadata that registration refuses: %v", verr)
		}
		cl := HydraClient(m, id, mustParse(id), "http://localhost:8080/mcp")
		if VerifiedHost(&cl) != "app.example.com" {
			t.Fatalf("the mirrored client is not vouched for by its host: %q", VerifiedHost(&cl))
		}
	})
}

func mustParse(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

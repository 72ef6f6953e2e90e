package authorize

import "testing"

const mcp = "http://localhost:8080/mcp"

func TestCheck(t *testing.T) {
	base := "http://localhost:3000/oauth2/auth?client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&response_type=code"
	tests := []struct {
		name      string
		query     string
		wantError string
	}{
		{"S256 with resource", "&code_challenge=abc&code_challenge_method=S256&resource=" + "http%3A%2F%2Flocalhost%3A8080%2Fmcp", ""},
		{"S256 without resource", "&code_challenge=abc&code_challenge_method=S256", ""},
		{"no PKCE", "", "invalid_request"},
		{"plain PKCE", "&code_challenge=abc&code_challenge_method=plain", "invalid_request"},
		{"implicit plain PKCE", "&code_challenge=abc", "invalid_request"},
		{"other resource", "&code_challenge=abc&code_challenge_method=S256&resource=https%3A%2F%2Fevil.example%2Fmcp", "invalid_target"},
		{"our resource, then another", "&code_challenge=abc&code_challenge_method=S256&resource=http%3A%2F%2Flocalhost%3A8080%2Fmcp&resource=https%3A%2F%2Fevil.example%2Fmcp", "invalid_target"},
		{"our resource twice", "&code_challenge=abc&code_challenge_method=S256&resource=http%3A%2F%2Flocalhost%3A8080%2Fmcp&resource=http%3A%2F%2Flocalhost%3A8080%2Fmcp", ""},
		{"empty resource", "&code_challenge=abc&code_challenge_method=S256&resource=", "invalid_target"},
		{"127.0.0.1 is another resource", "&code_challenge=abc&code_challenge_method=S256&resource=http%3A%2F%2F127.0.0.1%3A8080%2Fmcp", "invalid_target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(base + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			rej := Check(r, mcp)
			got := ""
			if rej != nil {
				got = rej.Error
			}
			if got != tt.wantError {
				t.Errorf("Check() = %q, want %q", got, tt.wantError)
			}
		})
	}
}

func TestParseUILocales(t *testing.T) {
	r, err := Parse("http://localhost:3000/oauth2/auth?client_id=c&ui_locales=de-CH+fr")
	if err != nil || r.UILocales != "de-CH fr" {
		t.Errorf("Parse() = %+v, %v; want ui_locales \"de-CH fr\"", r, err)
	}
}

func TestRedirectHost(t *testing.T) {
	tests := []struct {
		uri      string
		host     string
		loopback bool
	}{
		{"http://127.0.0.1:33418/callback", "127.0.0.1", true},
		{"http://localhost:6274/oauth/callback", "localhost", true},
		{"http://[::1]:80/cb", "::1", true},
		{"https://claude.ai/api/mcp/auth_callback", "claude.ai", false},
		{"https://app.example:8443/cb", "app.example:8443", false},
		{"cursor://anysphere.cursor-retrieval/oauth/callback", "cursor:", true},
		{"com.example.app:/oauth", "com.example.app:", true},
		{"", "", false},
	}
	for _, tt := range tests {
		host, lb := Request{RedirectURI: tt.uri}.RedirectHost()
		if host != tt.host || lb != tt.loopback {
			t.Errorf("RedirectHost(%q) = %q, %v; want %q, %v", tt.uri, host, lb, tt.host, tt.loopback)
		}
	}
}

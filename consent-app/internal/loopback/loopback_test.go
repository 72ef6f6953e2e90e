package loopback

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	// The documents of Claude Code 2.1.328 and Codex CLI 0.169.0 list both
	// of these and then send an ephemeral port (docs/design.md).
	realClients := []string{"http://localhost/callback", "http://127.0.0.1/callback"}
	tests := []struct {
		name       string
		registered []string
		requested  string
		want       bool
	}{
		{"exact", []string{"https://app.example/cb"}, "https://app.example/cb", true},
		{"claude code: localhost, any port", realClients, "http://localhost:61030/callback", true},
		{"codex: 127.0.0.1, any port", realClients, "http://127.0.0.1:50123/callback", true},
		{"registered port, another port", []string{"http://localhost:8080/cb"}, "http://localhost:9090/cb", true},
		{"registered port, no port", []string{"http://127.0.0.1:8080/cb"}, "http://127.0.0.1/cb", true},
		{"ipv6 loopback", []string{"http://[::1]/cb"}, "http://[::1]:4000/cb", true},
		{"same query", []string{"http://localhost/cb?x=1"}, "http://localhost:5/cb?x=1", true},

		{"https on another port", []string{"https://app.example:8443/cb"}, "https://app.example:9443/cb", false},
		{"https loopback on another port", []string{"https://localhost:8443/cb"}, "https://localhost:9443/cb", false},
		{"non-loopback http", []string{"http://app.example/cb"}, "http://app.example:8080/cb", false},
		{"other path", realClients, "http://localhost:61030/callback/x", false},
		{"path case", realClients, "http://localhost:61030/Callback", false},
		{"other query", []string{"http://localhost/cb?x=1"}, "http://localhost:5/cb?x=2", false},
		{"query added", realClients, "http://localhost:5/callback?next=https://evil.example", false},
		{"empty query added", realClients, "http://localhost:5/callback?", false},
		{"localhost is not 127.0.0.1", []string{"http://127.0.0.1/cb"}, "http://localhost:5/cb", false},
		{"127.0.0.1 is not localhost", []string{"http://localhost/cb"}, "http://127.0.0.1:5/cb", false},
		{"another loopback address", []string{"http://127.0.0.1/cb"}, "http://127.0.0.2:5/cb", false},
		{"a look-alike host", realClients, "http://localhost.evil.example:5/callback", false},
		{"user information", realClients, "http://evil.example@localhost:5/callback", false},
		{"user information on the registered side", []string{"http://u@localhost/cb"}, "http://localhost:5/cb", false},
		{"fragment", realClients, "http://localhost:5/callback#x", false},
		{"upper-case host", realClients, "http://LOCALHOST:5/callback", false},
		{"upper-case scheme", realClients, "HTTP://localhost:5/callback", false},
		{"private-use scheme", []string{"cursor://anysphere.cursor-retrieval/oauth/callback"}, "cursor://anysphere.cursor-retrieval:5/oauth/callback", false},
		{"a bad port", realClients, "http://localhost:x/callback", false},
		{"nothing registered", nil, "http://localhost:5/callback", false},
		{"empty", realClients, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.registered, tt.requested); got != tt.want {
				t.Errorf("Match(%q, %q) = %v, want %v", tt.registered, tt.requested, got, tt.want)
			}
		})
	}
}

func TestHydraForm(t *testing.T) {
	tests := []struct{ client, hydra string }{
		{"http://localhost/callback", "http://127.82.52.1/callback"},
		{"http://localhost:61030/callback", "http://127.82.52.1:61030/callback"},
		{"http://localhost", "http://127.82.52.1"},
		{"http://localhost?x=%2F", "http://127.82.52.1?x=%2F"},
		{"http://localhost:3000/settings/callback", "http://127.82.52.1:3000/settings/callback"},
		// Unchanged: not localhost, or not this spelling of it.
		{"http://127.0.0.1:5/callback", "http://127.0.0.1:5/callback"},
		{"https://localhost/callback", "https://localhost/callback"},
		{"http://localhost.evil.example/cb", "http://localhost.evil.example/cb"},
		{"http://localhost@evil.example/cb", "http://localhost@evil.example/cb"},
		{"http://LOCALHOST/cb", "http://LOCALHOST/cb"},
		{"cursor://localhost/cb", "cursor://localhost/cb"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := HydraForm(tt.client); got != tt.hydra {
			t.Errorf("HydraForm(%q) = %q, want %q", tt.client, got, tt.hydra)
		}
		if got := ClientForm(tt.hydra); got != tt.client {
			t.Errorf("ClientForm(%q) = %q, want %q", tt.hydra, got, tt.client)
		}
	}
	if got := ClientForm("http://127.82.52.10/cb"); got != "http://127.82.52.10/cb" {
		t.Errorf("ClientForm rewrote another address: %q", got)
	}
}

func TestUsesStandIn(t *testing.T) {
	for uri, want := range map[string]bool{
		"http://127.82.52.1/cb":       true,
		"http://127.82.52.1:5/cb":     true,
		"https://127.82.52.1/cb":      true,
		"http://127.82.52.10/cb":      false,
		"http://localhost/cb":         false,
		"https://app.example/cb":      false,
		"http://[::ffff:127.0.0.1]/x": false,
	} {
		if got := UsesStandIn(uri); got != want {
			t.Errorf("UsesStandIn(%q) = %v, want %v", uri, got, want)
		}
	}
}

// FuzzHydraForm: the translation is undone exactly, so the browser and the
// token request always see the client's own bytes, and it never invents a
// match that Match would refuse.
func FuzzHydraForm(f *testing.F) {
	for _, s := range []string{"http://localhost:5/callback", "http://localhost", "http://localhost?x", "https://a.example/cb", "http://localhostx/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if strings.HasPrefix(uri, standInPrefix) {
			return // refused at registration; never a client's URI
		}
		h := HydraForm(uri)
		if back := ClientForm(h); back != uri {
			t.Fatalf("ClientForm(HydraForm(%q)) = %q", uri, back)
		}
		if h != uri && !Match([]string{uri}, uri) {
			t.Fatalf("%q was rewritten but does not match itself", uri)
		}
	})
}

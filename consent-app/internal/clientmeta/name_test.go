package clientmeta

import (
	"testing"

	hydra "github.com/ory/hydra-client-go/v2"
)

func TestDisplayName(t *testing.T) {
	for _, tt := range []struct {
		name, id, want string
	}{
		{"Claude Code", "c1", "Claude Code"},
		{"  Claude Code \t", "c1", "Claude Code"},
		{"   ", "c1", "c1"},
		{"", "c1", "c1"},
	} {
		c := &hydra.OAuth2Client{ClientName: &tt.name, ClientId: &tt.id}
		if got := DisplayName(c); got != tt.want {
			t.Errorf("DisplayName(%q, %q) = %q, want %q", tt.name, tt.id, got, tt.want)
		}
	}
	if got := DisplayName(nil); got != "?" {
		t.Errorf("DisplayName(nil) = %q", got)
	}
	for name, want := range map[string]string{"claude": "C", "  élan": "É", "42 apps": "4", "✨": "?", "---": "?", "": "?"} {
		if got := Initial(name); got != want {
			t.Errorf("Initial(%q) = %q, want %q", name, got, want)
		}
	}
}

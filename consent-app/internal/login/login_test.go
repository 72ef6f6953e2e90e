package login

import (
	"testing"

	hydra "github.com/ory/hydra-client-go/v2"
)

func TestDecide(t *testing.T) {
	const base = "http://localhost:3000/oauth2/auth?client_id=c&response_type=code"
	tests := []struct {
		name       string
		url        string
		skip       bool
		want       Next
		wantReject string
	}{
		{"fresh S256", base + "&code_challenge=x&code_challenge_method=S256", false, ShowForm, ""},
		{"remembered", base + "&code_challenge=x&code_challenge_method=S256", true, AcceptNow, ""},
		{"no PKCE is refused before sign-in", base, false, Reject, "invalid_request"},
		{"plain PKCE is refused even when remembered", base + "&code_challenge=x&code_challenge_method=plain", true, Reject, "invalid_request"},
		{"foreign resource", base + "&code_challenge=x&code_challenge_method=S256&resource=https%3A%2F%2Fother%2Fmcp", false, Reject, "invalid_target"},
		{"unreadable request", "%zz", false, Reject, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, rej := Decide(&hydra.OAuth2LoginRequest{RequestUrl: tt.url, Skip: tt.skip}, "http://localhost:8080/mcp")
			if next != tt.want {
				t.Fatalf("Decide() = %v, want %v", next, tt.want)
			}
			got := ""
			if rej != nil {
				got = rej.Error
			}
			if got != tt.wantReject {
				t.Errorf("rejection = %q, want %q", got, tt.wantReject)
			}
		})
	}
}

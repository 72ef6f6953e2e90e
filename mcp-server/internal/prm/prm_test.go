package prm

import "testing"

func TestPathAndURL(t *testing.T) {
	tests := []struct {
		resource, path, url string
	}{
		{"http://localhost:8080/mcp", "/.well-known/oauth-protected-resource/mcp", "http://localhost:8080/.well-known/oauth-protected-resource/mcp"},
		{"https://mcp.example.com/v1/mcp/", "/.well-known/oauth-protected-resource/v1/mcp/", "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp/"},
		{"http://[::1]:9000/mcp", "/.well-known/oauth-protected-resource/mcp", "http://[::1]:9000/.well-known/oauth-protected-resource/mcp"},
	}
	for _, tt := range tests {
		if got := Path(tt.resource); got != tt.path {
			t.Errorf("Path(%q) = %q, want %q", tt.resource, got, tt.path)
		}
		if got := URL(tt.resource); got != tt.url {
			t.Errorf("URL(%q) = %q, want %q", tt.resource, got, tt.url)
		}
	}
}

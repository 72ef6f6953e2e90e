package register

import (
	"context"
	"encoding/json"

	"fmt"
	"io"
	"log/slog"

	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		m       Metadata
		wantErr string
	}{
		{"claude code shape", Metadata{ClientName: "Claude Code", RedirectURIs: []string{"http://localhost:53682/callback"}, GrantTypes: []string{"authorization_code", "refresh_token"}, TokenEndpointAuthMethod: "none"}, ""},
		{"https web client", Metadata{RedirectURIs: []string{"https://claude.ai/api/mcp/auth_callback"}}, ""},
		{"private-use scheme", Metadata{RedirectURIs: []string{"cursor://anysphere.cursor-retrieval/oauth/callback"}}, ""},
		{"ipv6 loopback", Metadata{RedirectURIs: []string{"http://[::1]:8000/cb"}}, ""},
		{"no redirect", Metadata{}, "invalid_redirect_uri"},
		{"javascript", Metadata{RedirectURIs: []string{"javascript:alert(1)"}}, "invalid_redirect_uri"},
		{"data", Metadata{RedirectURIs: []string{"data:text/html,hi"}}, "invalid_redirect_uri"},
		{"plain http", Metadata{RedirectURIs: []string{"http://evil.example/cb"}}, "invalid_redirect_uri"},
		{"fragment", Metadata{RedirectURIs: []string{"https://app.example/cb#frag"}}, "invalid_redirect_uri"},
		{"relative", Metadata{RedirectURIs: []string{"/callback"}}, "invalid_redirect_uri"},
		{"userinfo", Metadata{RedirectURIs: []string{"https://user:pw@app.example/cb"}}, "invalid_redirect_uri"},
		{"too many", Metadata{RedirectURIs: slices.Repeat([]string{"https://app.example/cb"}, MaxRedirectURIs+1)}, "invalid_redirect_uri"},
		{"client credentials", Metadata{RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{"client_credentials"}}, "invalid_client_metadata"},
		{"implicit", Metadata{RedirectURIs: []string{"https://app.example/cb"}, GrantTypes: []string{"authorization_code", "implicit"}}, "invalid_client_metadata"},
		{"token response", Metadata{RedirectURIs: []string{"https://app.example/cb"}, ResponseTypes: []string{"token"}}, "invalid_client_metadata"},
		{"private_key_jwt", Metadata{RedirectURIs: []string{"https://app.example/cb"}, TokenEndpointAuthMethod: "private_key_jwt"}, "invalid_client_metadata"},
		{"NUL in the name", Metadata{ClientName: "a\x00b", RedirectURIs: []string{"https://app.example/cb"}}, "invalid_client_metadata"},
		{"line break in the name", Metadata{ClientName: "Claude\nCode", RedirectURIs: []string{"https://app.example/cb"}}, "invalid_client_metadata"},
		{"bidi override in the name", Metadata{ClientName: "Claude\u202egnp.exe", RedirectURIs: []string{"https://app.example/cb"}}, "invalid_client_metadata"},
		{"zero-width joiner in the name", Metadata{ClientName: "Cl\u200daude", RedirectURIs: []string{"https://app.example/cb"}}, "invalid_client_metadata"},
		{"accents and CJK in the name", Metadata{ClientName: "Élan 助手", RedirectURIs: []string{"https://app.example/cb"}}, ""},
		{"http logo", Metadata{RedirectURIs: []string{"https://app.example/cb"}, LogoURI: "http://app.example/logo.png"}, "invalid_client_metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			err := Validate(&m)
			got := ""
			if err != nil {
				got = err.Code
				if err.Description == "" {
					t.Error("error without a description")
				}
			}
			if got != tt.wantErr {
				t.Fatalf("Validate() = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateDefaults(t *testing.T) {
	m := Metadata{RedirectURIs: []string{"http://127.0.0.1:1234/cb"}}
	if err := Validate(&m); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		!slices.Equal(m.ResponseTypes, []string{"code"}) || m.TokenEndpointAuthMethod != "client_secret_basic" {
		t.Errorf("defaults = %+v", m)
	}
}

type fakeAdmin struct {
	hydraadmin.Admin
	got *hydra.OAuth2Client
	err error
}

func (f *fakeAdmin) CreateClient(_ context.Context, c hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.got = &c
	id := "generated-id"
	c.ClientId = &id
	if c.GetTokenEndpointAuthMethod() != "none" {
		secret := "generated-secret"
		c.ClientSecret = &secret
	}
	return &c, nil
}

func TestRegisterHandler(t *testing.T) {
	gin.SetMode(gin.TestMode)
	const mcpURL = "http://localhost:8080/mcp"
	tests := []struct {
		name       string
		body       string
		adminErr   error
		wantStatus int
		wantError  string
	}{
		{"public client", `{"client_name":"Claude Code","redirect_uris":["http://localhost:5555/callback"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`, nil, 201, ""},
		{"confidential client", `{"redirect_uris":["https://app.example/cb"],"scope":"openid whatever"}`, nil, 201, ""},
		{"unknown members are ignored", `{"redirect_uris":["https://app.example/cb"],"software_id":"x","tos_uri":"https://x"}`, nil, 201, ""},
		{"chosen client_id", `{"client_id":"mine","redirect_uris":["https://app.example/cb"]}`, nil, 400, "invalid_client_metadata"},
		{"chosen secret", `{"client_secret":"s","redirect_uris":["https://app.example/cb"]}`, nil, 400, "invalid_client_metadata"},
		{"chosen audience", `{"audience":["https://other"],"redirect_uris":["https://app.example/cb"]}`, nil, 400, "invalid_client_metadata"},
		{"not json", `redirect_uris=x`, nil, 400, "invalid_client_metadata"},
		{"wrong type", `{"redirect_uris":"https://app.example/cb"}`, nil, 400, "invalid_client_metadata"},
		{"too large", `{"client_name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, nil, 413, "invalid_client_metadata"},
		{"hydra refuses", `{"redirect_uris":["https://app.example/cb"]}`, fmt.Errorf("x: %w", hydraadmin.ErrRejected), 400, "invalid_client_metadata"},
		{"hydra down", `{"redirect_uris":["https://app.example/cb"]}`, fmt.Errorf("x: %w", hydraadmin.ErrUnavailable), 503, "temporarily_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := &fakeAdmin{err: tt.adminErr}
			h := &Handler{Hydra: admin, MCPResourceURL: mcpURL, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			r := gin.New()
			r.POST("/oauth2/register", h.Register)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest("POST", "/oauth2/register", strings.NewReader(tt.body)))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body is not JSON: %s", rec.Body)
			}
			for k, v := range body {
				if v == nil || v == "" {
					t.Errorf("member %s is %v; MCP clients reject null and empty members", k, v)
				}
			}
			if tt.wantError != "" {
				if body["error"] != tt.wantError || body["error_description"] == nil {
					t.Errorf("body = %v, want error %q with a description", body, tt.wantError)
				}
				return
			}
			// What reached Hydra is forced, whatever the client asked.
			if !slices.Equal(admin.got.Audience, []string{mcpURL}) {
				t.Errorf("audience = %v", admin.got.Audience)
			}
			if admin.got.GetScope() != strings.Join(catalog.ClientScopes(), " ") {
				t.Errorf("scope = %q", admin.got.GetScope())
			}
			if slices.Contains(admin.got.GrantTypes, "client_credentials") {
				t.Error("client_credentials reached Hydra")
			}
			if body["client_id"] != "generated-id" {
				t.Errorf("client_id = %v", body["client_id"])
			}
			_, hasSecret := body["client_secret"]
			if hasSecret != (admin.got.GetTokenEndpointAuthMethod() != "none") {
				t.Errorf("client_secret present = %v for auth method %s", hasSecret, admin.got.GetTokenEndpointAuthMethod())
			}
		})
	}
}

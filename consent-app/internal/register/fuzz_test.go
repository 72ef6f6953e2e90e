package register

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/authorize"
)

// FuzzRegister posts arbitrary bodies to the registration endpoint. The
// answer is a 201 or a 4xx with an RFC 7591 error; and whatever a 201
// registered, Hydra got only what an MCP client may have: safe redirect
// URIs, the two grants, the forced scope and audience, a plain name.
func FuzzRegister(f *testing.F) {
	for _, s := range []string{
		`{"client_name":"Claude Code","redirect_uris":["http://localhost:5555/callback"],"token_endpoint_auth_method":"none"}`,
		`{"redirect_uris":["https://app.example/cb"],"scope":"openid admin","grant_types":["authorization_code"]}`,
		`{"redirect_uris":["cursor://cb","http://[::1]:9/cb"],"client_uri":"https://app.example","logo_uri":"https://app.example/l.png"}`,
		`{"redirect_uris":["javascript:alert(1)"]}`,
		`{"redirect_uris":["HTTP://127.0.0.1/cb"],"grant_types":["client_credentials"]}`,
		`{"client_id":"x","redirect_uris":["https://a/cb"]}`,
		`{"redirect_uris":["https://a/cb"],"Client_Secret":"x"}`,
		`{"redirect_uris":["https://a/cb"],"client_name":"a\u202eb"}`,
		`{"redirect_uris":["https://a/cb"],"redirect_uris":["javascript:x"]}`,
		`[]`, `null`, `{"redirect_uris":null}`, `{"redirect_uris":[null]}`,
	} {
		f.Add(s)
	}
	gin.SetMode(gin.TestMode)
	const mcpURL = "http://localhost:8080/mcp"
	f.Fuzz(func(t *testing.T, body string) {
		admin := &fakeAdmin{}
		h := &Handler{Hydra: admin, MCPResourceURL: mcpURL, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		r := gin.New()
		r.POST("/oauth2/register", h.Register)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/oauth2/register", strings.NewReader(body)))

		var answer map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("HTTP %d, body not JSON: %s", rec.Code, rec.Body)
		}
		switch rec.Code {
		case http.StatusCreated:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if code, _ := answer["error"].(string); code != "invalid_client_metadata" && code != "invalid_redirect_uri" || answer["error_description"] == "" {
				t.Fatalf("HTTP %d without an RFC 7591 error: %s", rec.Code, rec.Body)
			}
			if admin.got != nil {
				t.Fatal("a refused registration reached Hydra")
			}
			return
		default:
			t.Fatalf("HTTP %d for %q: %s", rec.Code, body, rec.Body)
		}

		c := admin.got
		if !slices.Equal(c.Audience, []string{mcpURL}) || c.GetScope() != strings.Join(catalog.ClientScopes(), " ") {
			t.Fatalf("%q: Hydra got audience %v, scope %q", body, c.Audience, c.GetScope())
		}
		if !slices.Contains(c.GrantTypes, "authorization_code") || slices.ContainsFunc(c.GrantTypes, func(g string) bool { return g != "authorization_code" && g != "refresh_token" }) {
			t.Fatalf("%q: Hydra got grant types %v", body, c.GrantTypes)
		}
		if !slices.Equal(c.ResponseTypes, []string{"code"}) {
			t.Fatalf("%q: Hydra got response types %v", body, c.ResponseTypes)
		}
		if strings.ContainsFunc(c.GetClientName(), HiddenRune) || len(c.GetClientName()) > maxNameLength {
			t.Fatalf("%q: Hydra got the name %q", body, c.GetClientName())
		}
		if len(c.RedirectUris) == 0 || len(c.RedirectUris) > MaxRedirectURIs {
			t.Fatalf("%q: Hydra got %d redirect URIs", body, len(c.RedirectUris))
		}
		for _, raw := range c.RedirectUris {
			u, err := url.Parse(raw)
			if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
				t.Fatalf("%q: Hydra got the redirect URI %q", body, raw)
			}
			scheme := strings.ToLower(u.Scheme)
			if slices.Contains(blockedSchemes, scheme) || scheme == "http" && !authorize.IsLoopback(u.Hostname()) || scheme == "https" && u.Host == "" {
				t.Fatalf("%q: Hydra got the redirect URI %q", body, raw)
			}
		}
	})
}

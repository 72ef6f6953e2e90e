package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestAuthOriginMetadata reads the discovery documents where clients look
// for them and checks what they promise against the resource metadata.
func TestAuthOriginMetadata(t *testing.T) {
	var prm struct {
		AuthorizationServers []string `json:"authorization_servers"`
	}
	getJSON(t, prmURL(), &prm)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		var doc struct {
			Issuer        string   `json:"issuer"`
			Registration  string   `json:"registration_endpoint"`
			PKCE          []string `json:"code_challenge_methods_supported"`
			ResponseTypes []string `json:"response_types_supported"`
			Grants        []string `json:"grant_types_supported"`
			AuthMethods   []string `json:"token_endpoint_auth_methods_supported"`
			Iss           bool     `json:"authorization_response_iss_parameter_supported"`
			CIMD          bool     `json:"client_id_metadata_document_supported"`
			Scopes        []string `json:"scopes_supported"`
		}
		getJSON(t, st.IssuerURL+path, &doc)
		if !slices.Equal(prm.AuthorizationServers, []string{doc.Issuer}) {
			t.Errorf("%s: issuer %q, but the resource metadata names %v", path, doc.Issuer, prm.AuthorizationServers)
		}
		if doc.Registration != st.IssuerURL+"/oauth2/register" || !slices.Equal(doc.PKCE, []string{"S256"}) ||
			!slices.Equal(doc.ResponseTypes, []string{"code"}) || !slices.Equal(doc.Grants, []string{"authorization_code", "refresh_token"}) ||
			!slices.Equal(doc.AuthMethods, []string{"client_secret_basic", "client_secret_post", "none"}) || !doc.Iss || !doc.CIMD {
			t.Errorf("%s = %+v", path, doc)
		}
		// Claude.ai takes the metadata-document path only when it sees
		// none; Codex asks for offline_access only when it is listed here
		// (docs/design.md). The resource's own lists never carry it.
		if !slices.Contains(doc.AuthMethods, "none") || !slices.Contains(doc.Scopes, "offline_access") {
			t.Errorf("%s: token_endpoint_auth_methods_supported %v, scopes_supported %v", path, doc.AuthMethods, doc.Scopes)
		}
	}
}

// TestCORSForBrowserClients: a browser-based client (MCP Inspector) on
// another origin may read the metadata and call registration and the token
// endpoint; its preflights pass, including the MCP-Protocol-Version header
// the TypeScript SDK sends during discovery. The authorization endpoint is a
// navigation and gets no CORS.
func TestCORSForBrowserClients(t *testing.T) {
	const origin = "http://localhost:6274"
	for _, tc := range []struct{ method, path, headers string }{
		{"GET", "/.well-known/oauth-authorization-server", "mcp-protocol-version"},
		{"GET", "/.well-known/openid-configuration", "mcp-protocol-version"},
		{"POST", "/oauth2/register", "content-type"},
		{"POST", "/oauth2/token", "content-type, authorization"},
		{"POST", "/oauth2/revoke", "content-type"},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodOptions, st.IssuerURL+tc.path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", tc.method)
		req.Header.Set("Access-Control-Request-Headers", tc.headers)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		if resp.StatusCode/100 != 2 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), tc.method) {
			t.Errorf("preflight %s %s: HTTP %d, headers %v", tc.method, tc.path, resp.StatusCode, resp.Header)
		}
		for h := range strings.SplitSeq(tc.headers, ",") {
			if !strings.Contains(allowed, strings.TrimSpace(h)) {
				t.Errorf("preflight %s: %q not allowed (%q)", tc.path, h, allowed)
			}
		}
	}

	// The actual calls carry the header too, once, on success and error alike.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, st.IssuerURL+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {"bogus"}, "client_id": {"nobody"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("Access-Control-Allow-Origin"); resp.StatusCode < 400 || !slices.Equal(got, []string{"*"}) {
		t.Errorf("token error: HTTP %d, Access-Control-Allow-Origin %q", resp.StatusCode, got)
	}
	resp, err = http.Get(st.IssuerURL + "/oauth2/auth?client_id=nobody")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the authorization endpoint answers with CORS headers")
	}
}

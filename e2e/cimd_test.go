package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/mcp-oauth/catalog/demo"
	"github.com/mcp-oauth/e2e/browser"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"
)

// TestGoSDKClientMetadataDocument: the go-sdk client identifies itself by
// the URL of its Client ID Metadata Document instead of registering. The
// consent page names the document's host as the client's verified identity;
// the code exchange, a refresh and a revocation all carry the URL as
// client_id and must be translated at the edge.
func TestGoSDKClientMetadataDocument(t *testing.T) {
	const redirect = "http://127.0.0.1:53682/callback" // the fetcher reads the redirect itself
	clientID := clientDocs.publish(t, "e2e metadata-document client", redirect)
	var (
		seen []*approval
		mu   sync.Mutex
		cfg  *oauth2.Config
		tok  *oauth2.Token
	)
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: clientID},
		RedirectURL:                    redirect,
		AuthorizationCodeFetcher:       recordingFetcher(as(alice, demo.Globex.Name), &seen),
		RequestRefreshToken:            true,
		NewTokenSource: func(ctx context.Context, c *oauth2.Config, t *oauth2.Token) (oauth2.TokenSource, error) {
			mu.Lock()
			cfg, tok = c, t
			mu.Unlock()
			return c.TokenSource(ctx, t), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-cimd", Version: "1.0.0"}, nil)
	session, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: st.MCPURL, OAuthHandler: handler}, nil)
	if err != nil {
		t.Fatalf("connect with a client metadata document: %v", err)
	}
	defer session.Close()

	var me whoami
	callTool(t, session, "whoami", nil, &me)
	if me.Team.Slug != "globex" || !strings.HasPrefix(me.ClientID, "cimd-") {
		t.Fatalf("whoami = %+v, want Globex through the Hydra client standing for the URL", me)
	}
	if len(seen) != 1 || !strings.Contains(seen[0].consentPage, clientDocs.host()) ||
		!strings.Contains(seen[0].consentPage, "e2e metadata-document client") {
		t.Errorf("the consent page does not show the document's host %s as the verified identity", clientDocs.host())
	}
	var mapped string
	queryRow(t, `SELECT hydra_client_id FROM client_metadata_documents WHERE url = $1`, []any{clientID}, &mapped)
	if mapped != me.ClientID {
		t.Errorf("mapping %s -> %q, but tokens are issued to %q", clientID, mapped, me.ClientID)
	}

	// Refresh with the URL as client_id (the go-sdk sends it as the Basic user name).
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	refreshed, err := refresh(t, cfg, tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	s, err := sessionWithToken(t, refreshed.AccessToken)
	if err != nil {
		t.Fatalf("session with the refreshed token: %v", err)
	}
	var again whoami
	callTool(t, s, "whoami", nil, &again)
	if again.ConnectionID != me.ConnectionID {
		t.Errorf("refreshed whoami = %+v", again)
	}

	// Revocation with the URL as client_id in the form.
	resp, err := http.PostForm(st.IssuerURL+"/oauth2/revoke", url.Values{"client_id": {clientID}, "token": {refreshed.RefreshToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: HTTP %d", resp.StatusCode)
	}
	_, err = refresh(t, cfg, refreshed.RefreshToken)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Errorf("refresh after revocation: %v, want an OAuth error", err)
	}
}

// TestClientMetadataDocumentRefused: a document that does not name its own
// URL as client_id stops the flow at the authorization endpoint, before
// anyone signs in, with a message for the client's developer.
func TestClientMetadataDocumentRefused(t *testing.T) {
	const redirect = "http://127.0.0.1:53682/callback"
	clientID := clientDocs.publish(t, "honest", redirect)
	impostor := strings.Replace(clientID, ".json", "-impostor.json", 1)
	clientDocs.put(t, impostor, "max-age=300", map[string]any{"client_id": clientID, "redirect_uris": []string{redirect}})

	for name, tc := range map[string]struct{ clientID, redirect, want string }{
		"client_id of another document": {impostor, redirect, "must be the document"},
		"redirect not in the document":  {clientID, "http://127.0.0.1:53683/other", "not listed"},
		"plain http outside loopback":   {"http://client.example/app.json", redirect, "must use https"},
	} {
		t.Run(name, func(t *testing.T) {
			q := url.Values{"client_id": {tc.clientID}, "redirect_uri": {tc.redirect}, "response_type": {"code"},
				"code_challenge": {"x"}, "code_challenge_method": {"S256"}, "state": {"s12345678"}}
			resp, err := http.Get(st.IssuerURL + "/oauth2/auth?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tc.want) {
				t.Errorf("HTTP %d %.400s; want 400 mentioning %q", resp.StatusCode, body, tc.want)
			}
		})
	}
}

// queryRow reads one row of the app database.
func queryRow(t *testing.T, sql string, args []any, dest ...any) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), st.AppDatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestClientMetadataDocumentUpdated: a document that may not be cached is
// fetched again on the next authorization, and its changes reach the Hydra
// client (an update through the admin API, under the same derived id).
func TestClientMetadataDocumentUpdated(t *testing.T) {
	const redirect = "http://127.0.0.1:53682/callback"
	clientID := clientDocs.publish(t, "first name", redirect)
	doc := map[string]any{"client_id": clientID, "client_name": "first name", "redirect_uris": []string{redirect}}
	signInPage := func() string {
		t.Helper()
		q := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"invoices:read"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}, "state": {"s12345678"}}
		b, err := browser.New(st.IssuerURL)
		if err != nil {
			t.Fatal(err)
		}
		page, err := b.Get(st.IssuerURL + "/oauth2/auth?" + q.Encode())
		if err != nil || page.Status != http.StatusOK {
			t.Fatalf("sign-in page: %v (HTTP %d %.300s)", err, page.Status, page.Body)
		}
		return page.Body
	}

	clientDocs.put(t, clientID, "no-store", doc)
	if !strings.Contains(signInPage(), "first name") {
		t.Fatal("the sign-in page does not name the client as its document does")
	}
	doc["client_name"] = "second name"
	clientDocs.put(t, clientID, "no-store", doc)
	if !strings.Contains(signInPage(), "second name") {
		t.Error("the changed document did not reach the Hydra client")
	}
	var name string
	queryRow(t, `SELECT client_name FROM client_metadata_documents WHERE url = $1`, []any{clientID}, &name)
	if name != "second name" {
		t.Errorf("recorded name %q", name)
	}
}

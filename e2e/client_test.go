package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
)

// person signs in and approves like a user in a browser would.
type person struct {
	email, password string
	// team is the label of the team to pick; "" leaves the picker as it is.
	team string
	// deny presses Deny instead of Allow.
	deny bool
}

// connection is one MCP client connected through the full OAuth flow.
type connection struct {
	session *mcp.ClientSession
	// config and token are what the go-sdk's handler obtained, kept so the
	// test can refresh and replay tokens itself.
	config *oauth2.Config
	token  *oauth2.Token
}

// fetcher returns an AuthorizationCodeFetcher that goes through the real
// login and consent pages over HTTP: a cookie jar, real form posts and the
// CSRF tokens the pages hand out.
func fetcher(p person) auth.AuthorizationCodeFetcher { return recordingFetcher(p, nil) }

// recordingFetcher is fetcher that also keeps each approval in *seen.
func recordingFetcher(p person, seen *[]*approval) auth.AuthorizationCodeFetcher {
	return func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
		a, err := approve(args.URL, p)
		if err != nil {
			return nil, err
		}
		if seen != nil {
			*seen = append(*seen, a)
		}
		q := a.redirect.Query()
		if e := q.Get("error"); e != "" {
			return nil, &authorizationError{Code: e, Description: q.Get("error_description")}
		}
		return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
	}
}

// authorizationError is an OAuth error delivered to the redirect URI.
type authorizationError struct{ Code, Description string }

func (e *authorizationError) Error() string { return e.Code + ": " + e.Description }

// connect registers a new client, lets p authorize it and opens an MCP
// session, all through the go-sdk's AuthorizationCodeHandler.
func connect(t *testing.T, p person) (*connection, error) {
	t.Helper()
	return connectWith(t, fetcher(p), connectOptions{})
}

// connectOptions vary a connection; the zero value is connect's client.
type connectOptions struct {
	// scopeFilter is the handler's ScopeFilter: it changes the scopes the
	// client asks for from those the server suggested.
	scopeFilter func(suggested []string) []string
	// httpClient sends the MCP requests; nil = http.DefaultClient.
	httpClient *http.Client
}

// askFor is a ScopeFilter that asks for scopes whatever the server
// suggested. The MCP server suggests its read baseline; with
// askFor(catalog.Names()...) a client gets every scope at once.
func askFor(scopes ...string) func([]string) []string {
	return func([]string) []string { return scopes }
}

// connectWith is connect with another fetcher and options.
func connectWith(t *testing.T, fetch auth.AuthorizationCodeFetcher, opts connectOptions) (*connection, error) {
	t.Helper()
	// Never listened on: the fetcher reads the redirect itself.
	c, err := mcpConnect(t.Context(), "e2e "+t.Name(), "http://127.0.0.1:53682/callback", fetch, opts)
	if err == nil {
		t.Cleanup(func() { c.session.Close() })
	}
	return c, err
}

// mcpConnect registers a client named clientName with one redirect URI,
// authorizes it through fetch and opens an MCP session. It does not touch a
// testing.T, so it may run in a goroutine; the caller closes the session.
func mcpConnect(ctx context.Context, clientName, redirect string, fetch auth.AuthorizationCodeFetcher, opts connectOptions) (*connection, error) {
	c := &connection{}
	var mu sync.Mutex
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{
			Metadata: &oauthex.ClientRegistrationMetadata{
				ClientName:              clientName,
				RedirectURIs:            []string{redirect},
				GrantTypes:              []string{"authorization_code", "refresh_token"},
				ResponseTypes:           []string{"code"},
				TokenEndpointAuthMethod: "none",
			},
		},
		AuthorizationCodeFetcher: fetch,
		ScopeFilter:              opts.scopeFilter,
		RequestRefreshToken:      true,
		NewTokenSource: func(ctx context.Context, cfg *oauth2.Config, tok *oauth2.Token) (oauth2.TokenSource, error) {
			mu.Lock()
			c.config, c.token = cfg, tok
			mu.Unlock()
			return cfg.TokenSource(ctx, tok), nil
		},
	})
	if err != nil {
		return nil, err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e", Version: "1.0.0"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: st.MCPURL, OAuthHandler: handler, HTTPClient: opts.httpClient}, nil)
	if err != nil {
		return nil, err
	}
	c.session = session
	return c, nil
}

// staticHandler presents one fixed token and never authorizes again.
type staticHandler struct{ token string }

func (h staticHandler) TokenSource(context.Context) (oauth2.TokenSource, error) {
	return oauth2.StaticTokenSource(&oauth2.Token{AccessToken: h.token, TokenType: "Bearer"}), nil
}

func (staticHandler) Authorize(_ context.Context, _ *http.Request, resp *http.Response) error {
	resp.Body.Close()
	return errors.New("token refused")
}

// sessionWithToken opens an MCP session that presents token as is.
func sessionWithToken(t *testing.T, token string) (*mcp.ClientSession, error) {
	client := mcp.NewClient(&mcp.Implementation{Name: "e2e-static", Version: "1.0.0"}, nil)
	s, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: st.MCPURL, OAuthHandler: staticHandler{token}}, nil)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

type whoami struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
	Team struct {
		ID   string `json:"id"`
		Slug string `json:"slug"`
		Name string `json:"name"`
	} `json:"team"`
	ClientID     string   `json:"client_id"`
	ConnectionID string   `json:"connection_id"`
	Scopes       []string `json:"scopes"`
}

type invoiceList struct {
	Invoices []struct {
		Number string `json:"number"`
	} `json:"invoices"`
	NextCursor string `json:"next_cursor"`
}

// callTool calls a tool and decodes its structured result into out.
func callTool(t *testing.T, s *mcp.ClientSession, name string, args map[string]any, out any) {
	t.Helper()
	res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		t.Fatalf("%s returned a tool error: %v", name, res.Content)
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: decode %s: %v", name, raw, err)
	}
}

// toolCallBody is a JSON-RPC tools/call of tool with args.
func toolCallBody(tool string, args map[string]any) string {
	if args == nil {
		args = map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": map[string]any{"name": tool, "arguments": args}})
	return string(b)
}

// mcpRequest is a POST of a JSON-RPC body to an MCP endpoint with the
// headers a client sends; authorization "" sends no Authorization header.
func mcpRequest(ctx context.Context, endpoint, authorization, body string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-06-18")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	return req
}

// rawCall posts a tools/call for whoami with the given Authorization header
// and returns the response, for checks at the HTTP level.
func rawCall(t *testing.T, authorization string) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(mcpRequest(t.Context(), st.MCPURL, authorization, toolCallBody("whoami", nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// refresh redeems a refresh token at the token endpoint.
func refresh(t *testing.T, cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	t.Helper()
	// No access token: the token source must refresh.
	return cfg.TokenSource(t.Context(), &oauth2.Token{RefreshToken: refreshToken}).Token()
}

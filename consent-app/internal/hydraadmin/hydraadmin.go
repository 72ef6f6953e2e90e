// Package hydraadmin is the consent app's narrow view of Hydra's admin API:
// the login, consent and logout challenges, clients and consent sessions. Handlers depend on
// the Admin interface so they can be tested without Hydra.
package hydraadmin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	hydra "github.com/ory/hydra-client-go/v2"
)

var (
	// ErrChallengeInvalid means Hydra does not know the challenge, or it was
	// already used or has expired. The user must restart from their app.
	ErrChallengeInvalid = errors.New("hydraadmin: challenge unknown, used or expired")
	// ErrUnavailable means Hydra could not be reached or failed.
	ErrUnavailable = errors.New("hydraadmin: Hydra is unavailable")
	// ErrRejected means Hydra refused a request as invalid (for example a
	// client whose metadata it does not accept).
	ErrRejected = errors.New("hydraadmin: request rejected")
)

// Rejection is an OAuth error returned to the client.
type Rejection struct {
	Error       string // e.g. access_denied, invalid_request
	Description string
}

// LoginAcceptance is what the consent app tells Hydra about a sign-in.
type LoginAcceptance struct {
	Subject string
	// Remember asks Hydra to keep the login session in a cookie, so later
	// authorization requests skip the sign-in form ("remember me").
	Remember bool
	// RememberFor is how long; 0 with Remember = until the browser closes.
	RememberFor time.Duration
}

// ConsentGrant is what an approved consent grants.
type ConsentGrant struct {
	Scopes   []string
	Audience []string
	// AccessTokenClaims become the access token's `ext` claims.
	AccessTokenClaims map[string]any
}

// Admin is the part of Hydra's admin API the consent app uses.
type Admin interface {
	LoginRequest(ctx context.Context, challenge string) (*hydra.OAuth2LoginRequest, error)
	AcceptLogin(ctx context.Context, challenge string, a LoginAcceptance) (redirectTo string, err error)
	RejectLogin(ctx context.Context, challenge string, r Rejection) (redirectTo string, err error)
	ConsentRequest(ctx context.Context, challenge string) (*hydra.OAuth2ConsentRequest, error)
	AcceptConsent(ctx context.Context, challenge string, g ConsentGrant) (redirectTo string, err error)
	RejectConsent(ctx context.Context, challenge string, r Rejection) (redirectTo string, err error)
	CreateClient(ctx context.Context, c hydra.OAuth2Client) (*hydra.OAuth2Client, error)
	PutClient(ctx context.Context, c hydra.OAuth2Client) error
	LogoutRequest(ctx context.Context, challenge string) (*hydra.OAuth2LogoutRequest, error)
	AcceptLogout(ctx context.Context, challenge string) (redirectTo string, err error)
	RejectLogout(ctx context.Context, challenge string) error
	RevokeConsent(ctx context.Context, subject, clientID string) error
	ListClients(ctx context.Context) ([]hydra.OAuth2Client, error)
	DeleteClient(ctx context.Context, id string) error
}

// Client implements Admin with hydra-client-go.
type Client struct {
	api hydra.OAuth2API
}

// New returns a Client for Hydra's admin API at adminURL.
func New(adminURL string) *Client {
	cfg := hydra.NewConfiguration()
	cfg.Servers = hydra.ServerConfigurations{{URL: adminURL}}
	cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	return &Client{api: hydra.NewAPIClient(cfg).OAuth2API}
}

// classify turns a hydra-client-go failure into one of our sentinel errors,
// keeping Hydra's message for the log but never the request.
func classify(op string, resp *http.Response, err error) error {
	if err == nil {
		return nil
	}
	if resp == nil {
		return fmt.Errorf("%s: %w: %v", op, ErrUnavailable, err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone || resp.StatusCode == http.StatusConflict:
		return fmt.Errorf("%s: %w (HTTP %d)", op, ErrChallengeInvalid, resp.StatusCode)
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return fmt.Errorf("%s: %w (HTTP %d): %v", op, ErrRejected, resp.StatusCode, detail(err))
	default:
		return fmt.Errorf("%s: %w (HTTP %d)", op, ErrUnavailable, resp.StatusCode)
	}
}

func detail(err error) string {
	var oe *hydra.GenericOpenAPIError
	if errors.As(err, &oe) {
		return string(oe.Body())
	}
	return err.Error()
}

func (c *Client) LoginRequest(ctx context.Context, challenge string) (*hydra.OAuth2LoginRequest, error) {
	req, resp, err := c.api.GetOAuth2LoginRequest(ctx).LoginChallenge(challenge).Execute()
	if err := classify("get login request", resp, err); err != nil {
		return nil, err
	}
	return req, nil
}

func (c *Client) AcceptLogin(ctx context.Context, challenge string, a LoginAcceptance) (string, error) {
	body := hydra.NewAcceptOAuth2LoginRequest(a.Subject)
	body.SetRemember(a.Remember)
	if a.Remember {
		body.SetRememberFor(int64(a.RememberFor.Seconds()))
	}
	red, resp, err := c.api.AcceptOAuth2LoginRequest(ctx).LoginChallenge(challenge).AcceptOAuth2LoginRequest(*body).Execute()
	if err := classify("accept login", resp, err); err != nil {
		return "", err
	}
	return red.RedirectTo, nil
}

func (c *Client) RejectLogin(ctx context.Context, challenge string, r Rejection) (string, error) {
	body := hydra.RejectOAuth2Request{Error: &r.Error, ErrorDescription: &r.Description}
	red, resp, err := c.api.RejectOAuth2LoginRequest(ctx).LoginChallenge(challenge).RejectOAuth2Request(body).Execute()
	if err := classify("reject login", resp, err); err != nil {
		return "", err
	}
	return red.RedirectTo, nil
}

func (c *Client) ConsentRequest(ctx context.Context, challenge string) (*hydra.OAuth2ConsentRequest, error) {
	req, resp, err := c.api.GetOAuth2ConsentRequest(ctx).ConsentChallenge(challenge).Execute()
	if err := classify("get consent request", resp, err); err != nil {
		return nil, err
	}
	return req, nil
}

func (c *Client) AcceptConsent(ctx context.Context, challenge string, g ConsentGrant) (string, error) {
	remember := false
	body := hydra.AcceptOAuth2ConsentRequest{
		GrantScope:               g.Scopes,
		GrantAccessTokenAudience: g.Audience,
		// Every approval is its own connection with its own team, so Hydra
		// must ask again next time instead of reusing this consent.
		Remember: &remember,
		Session:  &hydra.AcceptOAuth2ConsentRequestSession{AccessToken: g.AccessTokenClaims},
	}
	red, resp, err := c.api.AcceptOAuth2ConsentRequest(ctx).ConsentChallenge(challenge).AcceptOAuth2ConsentRequest(body).Execute()
	if err := classify("accept consent", resp, err); err != nil {
		return "", err
	}
	return red.RedirectTo, nil
}

func (c *Client) RejectConsent(ctx context.Context, challenge string, r Rejection) (string, error) {
	body := hydra.RejectOAuth2Request{Error: &r.Error, ErrorDescription: &r.Description}
	red, resp, err := c.api.RejectOAuth2ConsentRequest(ctx).ConsentChallenge(challenge).RejectOAuth2Request(body).Execute()
	if err := classify("reject consent", resp, err); err != nil {
		return "", err
	}
	return red.RedirectTo, nil
}

func (c *Client) CreateClient(ctx context.Context, cl hydra.OAuth2Client) (*hydra.OAuth2Client, error) {
	created, resp, err := c.api.CreateOAuth2Client(ctx).OAuth2Client(cl).Execute()
	if err := classify("create client", resp, err); err != nil {
		return nil, err
	}
	return created, nil
}

// PutClient makes Hydra's client with cl's id equal to cl: it replaces the
// client, or creates it when there is none yet. Two calls racing to create
// the same client both succeed.
func (c *Client) PutClient(ctx context.Context, cl hydra.OAuth2Client) error {
	id := cl.GetClientId()
	for range 2 {
		_, resp, err := c.api.SetOAuth2Client(ctx, id).OAuth2Client(cl).Execute()
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			return classify("set client", resp, err)
		}
		_, resp, err = c.api.CreateOAuth2Client(ctx).OAuth2Client(cl).Execute()
		if resp == nil || resp.StatusCode != http.StatusConflict {
			return classify("create client", resp, err)
		}
		// Created meanwhile by a concurrent request: replace it.
	}
	return fmt.Errorf("put client: %w: it keeps appearing and disappearing", ErrUnavailable)
}

func (c *Client) LogoutRequest(ctx context.Context, challenge string) (*hydra.OAuth2LogoutRequest, error) {
	req, resp, err := c.api.GetOAuth2LogoutRequest(ctx).LogoutChallenge(challenge).Execute()
	if err := classify("get logout request", resp, err); err != nil {
		return nil, err
	}
	return req, nil
}

func (c *Client) AcceptLogout(ctx context.Context, challenge string) (string, error) {
	red, resp, err := c.api.AcceptOAuth2LogoutRequest(ctx).LogoutChallenge(challenge).Execute()
	if err := classify("accept logout", resp, err); err != nil {
		return "", err
	}
	return red.RedirectTo, nil
}

// RejectLogout tells Hydra the user stays signed in; Hydra has nowhere to
// send the browser then, so the caller shows a page.
func (c *Client) RejectLogout(ctx context.Context, challenge string) error {
	resp, err := c.api.RejectOAuth2LogoutRequest(ctx).LogoutChallenge(challenge).Execute()
	return classify("reject logout", resp, err)
}

// RevokeConsent revokes every consent the subject gave the client, and with
// them the tokens Hydra issued on those consents.
func (c *Client) RevokeConsent(ctx context.Context, subject, clientID string) error {
	resp, err := c.api.RevokeOAuth2ConsentSessions(ctx).Subject(subject).Client(clientID).Execute()
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil // no such client any more: nothing left to revoke
	}
	return classify("revoke consent", resp, err)
}

// clientPageSize is Hydra's largest page of clients.
const clientPageSize = 1000

// ListClients returns every client Hydra knows, without secrets. Hydra pages
// by offset, so a client registered meanwhile may be missed or listed
// twice; callers run again later.
func (c *Client) ListClients(ctx context.Context) ([]hydra.OAuth2Client, error) {
	var all []hydra.OAuth2Client
	token := ""
	for {
		req := c.api.ListOAuth2Clients(ctx).PageSize(clientPageSize)
		if token != "" {
			req = req.PageToken(token)
		}
		page, resp, err := req.Execute()
		if err := classify("list clients", resp, err); err != nil {
			return nil, err
		}
		all = append(all, page...)
		token = nextPageToken(resp.Header.Values("Link"))
		if token == "" || len(page) == 0 {
			return all, nil
		}
	}
}

// nextPageToken reads the page_token of the rel="next" link of Hydra's Link
// header; "" on the last page.
func nextPageToken(links []string) string {
	for _, header := range links {
		for link := range strings.SplitSeq(header, ",") {
			target, params, ok := strings.Cut(link, ";")
			if !ok || !strings.Contains(params, `rel="next"`) {
				continue
			}
			u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
			if err == nil {
				return u.Query().Get("page_token")
			}
		}
	}
	return ""
}

// SetRedirectURIs replaces a client's redirect URIs and nothing else (a
// JSON patch: Hydra keeps the client's secret).
func (c *Client) SetRedirectURIs(ctx context.Context, id string, uris []string) error {
	op := hydra.JsonPatch{Op: "replace", Path: "/redirect_uris", Value: uris}
	_, resp, err := c.api.PatchOAuth2Client(ctx, id).JsonPatch([]hydra.JsonPatch{op}).Execute()
	return classify("set redirect URIs", resp, err)
}

// DeleteClient deletes a client; one that is gone already is no error.
func (c *Client) DeleteClient(ctx context.Context, id string) error {
	resp, err := c.api.DeleteOAuth2Client(ctx, id).Execute()
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return nil
	}
	return classify("delete client", resp, err)
}

// Package introspect asks Hydra's admin API about an opaque access token
// (RFC 7662). It only transports: deciding whether a token is acceptable is
// the gate's job, so every field the gate checks is returned as sent.
package introspect

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Result is the part of Hydra's introspection response the server uses.
type Result struct {
	Active bool `json:"active"`
	// TokenUse is "access_token" or "refresh_token": Hydra reports refresh
	// tokens as active too (docs/design.md quirk 6).
	TokenUse string   `json:"token_use"`
	Audience []string `json:"aud"`
	// Expiry is seconds since the epoch; 0 when absent.
	Expiry   int64  `json:"exp"`
	Subject  string `json:"sub"`
	ClientID string `json:"client_id"`
	// Scope is space-separated.
	Scope string `json:"scope"`
	// Ext holds the access-token session claims the consent app set
	// (contract.ClaimTeamID, ClaimConnectionID, ClaimTeamSlug, …). Values are
	// kept raw so the gate can insist on strings.
	Ext map[string]any `json:"ext"`
}

// Client calls one introspection endpoint.
type Client struct {
	endpoint string
	http     *http.Client
}

// New returns a Client for endpoint ({HYDRA_ADMIN_URL}/admin/oauth2/introspect).
// A nil httpClient gets a short timeout: a slow Hydra must turn into a quick
// 503, not a hung MCP request.
func New(endpoint string, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 5 * time.Second}
	}
	return &Client{endpoint: endpoint, http: httpClient}
}

// maxResponseBytes bounds what we read from Hydra; real responses are tiny.
const maxResponseBytes = 1 << 20

// Introspect posts the token and decodes the answer. An error means Hydra
// could not answer (unreachable, non-200, unreadable body) — not that the
// token is bad; an inactive token is a Result with Active false. Errors never
// contain the token.
func (c *Client) Introspect(ctx context.Context, token string) (*Result, error) {
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspect: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The body is not echoed: it is Hydra's business, and the status is
		// enough to find the cause in Hydra's own logs.
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		return nil, fmt.Errorf("introspect: hydra answered %s", resp.Status)
	}
	var res Result
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&res); err != nil {
		return nil, fmt.Errorf("introspect: decode response: %w", err)
	}
	return &res, nil
}

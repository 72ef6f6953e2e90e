// Package firstparty is the consent app's own OAuth client: the settings
// pages sign people in through Hydra with it, as any OpenID Connect client
// would (code flow with PKCE), so there is one sign-in page and one password
// check. It is registered through Hydra's admin API at start-up.
//
// The client gets only `openid`: no team, no connection, no audience. The
// consent step accepts it without asking and the token hook lets its
// authorization codes through; nothing it holds opens the MCP server.
package firstparty

import (
	"context"
	"encoding/base64"
	"log/slog"
	"time"

	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/appcookie"
	"github.com/mcp-oauth/consent-app/internal/loopback"
)

// ClientID is the first-party client's id in Hydra.
const ClientID = "mcp-connect-settings"

// Scope is all the client ever gets.
const Scope = "openid"

// CallbackPath is the client's one redirect URI, on the auth origin.
const CallbackPath = "/settings/callback"

// Is reports whether clientID is the first-party client.
func Is(clientID string) bool { return clientID == ClientID }

// Secret is the client's secret, derived from the app's cookie secret so
// that every replica registers the same one and nothing new is configured.
func Secret(cookieSecret string) string {
	return base64.RawURLEncoding.EncodeToString(appcookie.Key(cookieSecret, "first-party client secret"))
}

// Client is the Hydra client for the auth origin publicURL.
func Client(publicURL, secret string) hydra.OAuth2Client {
	name, scope, method := "MCP Connect settings", Scope, "client_secret_basic"
	skip := true
	return hydra.OAuth2Client{
		ClientId:                hydra.PtrString(ClientID),
		ClientName:              &name,
		ClientSecret:            &secret,
		RedirectUris:            []string{loopback.HydraForm(publicURL + CallbackPath)},
		GrantTypes:              []string{"authorization_code"},
		ResponseTypes:           []string{"code"},
		Scope:                   &scope,
		TokenEndpointAuthMethod: &method,
		SkipConsent:             &skip,
		Metadata:                map[string]any{"first_party": true},
	}
}

// Putter creates or replaces a Hydra client.
type Putter interface {
	PutClient(ctx context.Context, c hydra.OAuth2Client) error
}

// Register puts the client into Hydra, retrying until it succeeds or ctx
// ends: Hydra may start after the consent app. Until then the settings
// sign-in fails with Hydra's invalid_client page.
func Register(ctx context.Context, h Putter, c hydra.OAuth2Client, log *slog.Logger) {
	wait := time.Second
	for {
		err := h.PutClient(ctx, c)
		if err == nil {
			log.InfoContext(ctx, "first-party client registered", "client_id", ClientID)
			return
		}
		log.WarnContext(ctx, "register the first-party client; retrying", "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

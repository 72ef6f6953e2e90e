package loopback

import (
	"context"
	"log/slog"
	"slices"

	hydra "github.com/ory/hydra-client-go/v2"
)

// Clients lists Hydra's clients and sets their redirect URIs.
type Clients interface {
	ListClients(ctx context.Context) ([]hydra.OAuth2Client, error)
	SetRedirectURIs(ctx context.Context, id string, uris []string) error
}

// WithHydraForms returns uris with the Hydra form of each localhost URI
// added, and whether anything was added. A client registered before the
// edge translated redirect URIs lists only the client form, which the edge
// no longer shows Hydra; it keeps that form too, for requests made directly
// to Hydra. It is pure.
func WithHydraForms(uris []string) ([]string, bool) {
	out := slices.Clone(uris)
	for _, u := range uris {
		if h := HydraForm(u); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, len(out) != len(uris)
}

// Upgrade gives every Hydra client that lacks them the Hydra forms of its
// localhost redirect URIs, so that clients registered by an earlier version
// keep working. It is idempotent and returns how many clients it changed.
func Upgrade(ctx context.Context, c Clients, log *slog.Logger) (int, error) {
	clients, err := c.ListClients(ctx)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, cl := range clients {
		uris, ok := WithHydraForms(cl.RedirectUris)
		if !ok {
			continue
		}
		if err := c.SetRedirectURIs(ctx, cl.GetClientId(), uris); err != nil {
			return changed, err
		}
		log.InfoContext(ctx, "localhost redirect URIs given their Hydra form", "client_id", cl.GetClientId())
		changed++
	}
	return changed, nil
}

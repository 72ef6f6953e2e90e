// Package revocation ends connections. The database is the truth and goes
// first: a connection revoked there is refused by every MCP server replica
// at once (its transaction notifies them, see the store's migration 00003)
// and by the token hook at the next refresh. Then, once a user has no live
// connection of a client left, Hydra's consent for that user and client is
// revoked too, which ends the tokens Hydra issued on it (docs/design.md quirk 7:
// Hydra knows consents per user and client only, not per connection). A
// failed Hydra call is retried by the hygiene job.
package revocation

import (
	"context"
	"log/slog"
	"slices"

	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/telemetry"
)

// Store is the connection data revocation changes.
type Store interface {
	RevokeVisibleConnection(ctx context.Context, viewerID, connID string) ([]store.Revoked, error)
	RevokeUserConnections(ctx context.Context, userID string) ([]store.Revoked, error)
	RevokeClientConnections(ctx context.Context, clientID string) ([]store.Revoked, error)
	EndMembership(ctx context.Context, actorID, teamID, targetID string, allow store.MembershipRule) ([]store.Revoked, error)
	HasLiveConnection(ctx context.Context, userID, clientID string) (bool, error)
	MarkHydraConsentRevoked(ctx context.Context, userID, clientID string) error
	PendingConsentRevocations(ctx context.Context, limit int) ([]store.Grant, error)
}

// Hydra revokes consents.
type Hydra interface {
	RevokeConsent(ctx context.Context, subject, clientID string) error
}

// Revoker revokes connections and the Hydra consents behind them.
type Revoker struct {
	Store Store
	Hydra Hydra
	Log   *slog.Logger
	// Metrics counts revoked connections by cause; nil counts nothing.
	Metrics *telemetry.Metrics
}

// Connection revokes one connection on behalf of viewer, who must be allowed
// to see it (its user, or an owner or admin of its team); store.ErrNotFound
// otherwise. Revoking a revoked connection is no error.
func (r *Revoker) Connection(ctx context.Context, viewerID, connID string) error {
	revoked, err := r.Store.RevokeVisibleConnection(ctx, viewerID, connID)
	if err != nil {
		return err
	}
	r.Metrics.Revocations("connection", len(revoked))
	r.settle(ctx, revoked)
	return nil
}

// AllOfUser revokes every connection of the user and returns how many.
func (r *Revoker) AllOfUser(ctx context.Context, userID string) (int, error) {
	revoked, err := r.Store.RevokeUserConnections(ctx, userID)
	if err != nil {
		return 0, err
	}
	r.Metrics.Revocations("all_of_user", len(revoked))
	r.settle(ctx, revoked)
	return len(revoked), nil
}

// AllOfClient revokes every connection of a client that Hydra deleted:
// Hydra dropped the client's consents with it, so they are recorded as
// revoked without asking Hydra again.
func (r *Revoker) AllOfClient(ctx context.Context, clientID string) (int, error) {
	revoked, err := r.Store.RevokeClientConnections(ctx, clientID)
	if err != nil {
		return 0, err
	}
	r.Metrics.Revocations("client_deleted", len(revoked))
	for _, g := range grants(revoked) {
		if err := r.Store.MarkHydraConsentRevoked(ctx, g.UserID, g.ClientID); err != nil {
			return len(revoked), err
		}
	}
	return len(revoked), nil
}

// grants lists the distinct users and clients of revoked.
func grants(revoked []store.Revoked) []store.Grant {
	var out []store.Grant
	for _, c := range revoked {
		g := store.Grant{UserID: c.UserID, ClientID: c.ClientID}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// EndMembership ends target's membership of the team if allow permits actor
// to, and every connection of target into the team with it; it returns how
// many connections ended.
func (r *Revoker) EndMembership(ctx context.Context, actorID, teamID, targetID string, allow store.MembershipRule) (int, error) {
	revoked, err := r.Store.EndMembership(ctx, actorID, teamID, targetID, allow)
	if err != nil {
		return 0, err
	}
	r.Metrics.Revocations("membership_ended", len(revoked))
	r.settle(ctx, revoked)
	return len(revoked), nil
}

// settle revokes Hydra's consent for each user and client among revoked
// that has no live connection left. Failures are logged and left for
// RetryPending: the connections are revoked whatever Hydra says.
func (r *Revoker) settle(ctx context.Context, revoked []store.Revoked) {
	ctx = context.WithoutCancel(ctx) // the person may close the page; this still runs
	for _, g := range grants(revoked) {
		live, err := r.Store.HasLiveConnection(ctx, g.UserID, g.ClientID)
		if err != nil {
			r.Log.ErrorContext(ctx, "check for live connections; the hygiene job retries", "user_id", g.UserID, "client_id", g.ClientID, "err", err)
			continue
		}
		if !live {
			r.revokeConsent(ctx, g)
		}
	}
}

func (r *Revoker) revokeConsent(ctx context.Context, g store.Grant) bool {
	if err := r.Hydra.RevokeConsent(ctx, g.UserID, g.ClientID); err != nil {
		r.Log.ErrorContext(ctx, "revoke Hydra consent; the hygiene job retries", "user_id", g.UserID, "client_id", g.ClientID, "err", err)
		return false
	}
	if err := r.Store.MarkHydraConsentRevoked(ctx, g.UserID, g.ClientID); err != nil {
		r.Log.ErrorContext(ctx, "record Hydra consent revocation", "user_id", g.UserID, "client_id", g.ClientID, "err", err)
		return false
	}
	r.Log.InfoContext(ctx, "Hydra consent revoked", "user_id", g.UserID, "client_id", g.ClientID)
	return true
}

// retryBatch bounds one RetryPending pass.
const retryBatch = 500

// RetryPending revokes the Hydra consents that an earlier revocation could
// not, and returns how many it revoked now.
func (r *Revoker) RetryPending(ctx context.Context) (int, error) {
	pending, err := r.Store.PendingConsentRevocations(ctx, retryBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range pending {
		if r.revokeConsent(ctx, g) {
			n++
		}
	}
	return n, nil
}

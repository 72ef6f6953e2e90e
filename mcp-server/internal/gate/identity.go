package gate

import (
	"context"
	"slices"
)

// Identity is what a verified access token says about its caller. Tools read
// it from the request context; it never holds the token itself.
type Identity struct {
	UserID       string
	TeamID       string
	TeamSlug     string // from the token; may be empty
	ConnectionID string
	ClientID     string
	// Scopes are the granted scopes: those the token lists (this may
	// include offline_access) and the catalog scopes granted to its
	// connection since.
	Scopes []string
}

// HasScope reports whether the token grants scope.
func (id *Identity) HasScope(scope string) bool {
	return slices.Contains(id.Scopes, scope)
}

type identityKey struct{}

// WithIdentity returns ctx carrying id. The gate calls it for every request
// it lets through.
func WithIdentity(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the identity the gate stored in ctx.
func IdentityFrom(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(*Identity)
	return id, ok && id != nil
}

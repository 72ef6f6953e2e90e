// Package membership ends team memberships: an owner or admin removes a
// member, or a member leaves. Either way every connection of that person
// into the team ends in the same transaction, and so at once on every MCP
// server replica (see package revocation).
package membership

import (
	"context"
	"errors"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/store"
)

var (
	// ErrNotAllowed means the actor's role does not let them remove the
	// target: admins remove members only.
	ErrNotAllowed = errors.New("membership: not allowed to remove this member")
	// ErrLastOwner means the change would leave the team without an owner.
	ErrLastOwner = errors.New("membership: the team's last owner cannot leave")
)

// Decide is the pure rule for actor ending target's membership, given all of
// the team's members. Anyone may leave except the last owner; owners remove
// anyone; admins remove members; members remove nobody and are told the
// team's member list does not exist for them (store.ErrNotFound), as the
// pages they may see never show it.
func Decide(actor, target store.Member, members []store.Member) error {
	if actor.UserID == target.UserID {
		if actor.Role == contract.RoleOwner && owners(members) == 1 {
			return ErrLastOwner
		}
		return nil
	}
	switch actor.Role {
	case contract.RoleOwner:
		return nil
	case contract.RoleAdmin:
		if target.Role == contract.RoleMember {
			return nil
		}
		return ErrNotAllowed
	}
	return store.ErrNotFound
}

func owners(members []store.Member) int {
	n := 0
	for _, m := range members {
		if m.Role == contract.RoleOwner {
			n++
		}
	}
	return n
}

// Remove ends target's membership of the team on actor's behalf, with every
// connection of target into the team, and returns how many connections
// ended. Errors: store.ErrNotFound (no such team or member, or an actor who
// may not manage it), ErrNotAllowed, ErrLastOwner.
func Remove(ctx context.Context, r *revocation.Revoker, actorID, teamID, targetID string) (int, error) {
	return r.EndMembership(ctx, actorID, teamID, targetID, Decide)
}

// Leave ends the user's own membership of the team, with their connections
// into it.
func Leave(ctx context.Context, r *revocation.Revoker, userID, teamID string) (int, error) {
	return Remove(ctx, r, userID, teamID, userID)
}

package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/mcp-oauth/catalog/contract"
)

// Member is a user's membership of a team.
type Member struct {
	UserID string
	Email  string
	Name   string
	Role   contract.Role
}

// TeamAdministeredBy returns the team if the user is one of its owners or
// admins (Team.Role is theirs); ErrNotFound otherwise.
func (s *Store) TeamAdministeredBy(ctx context.Context, userID, teamID string) (Team, error) {
	t, err := s.TeamOfMember(ctx, userID, teamID)
	if err != nil {
		return Team{}, err
	}
	if !t.Role.Manages() {
		return Team{}, ErrNotFound
	}
	return t, nil
}

// TeamOfMember returns the team with the user's role in it; ErrNotFound if
// the user is not a member.
func (s *Store) TeamOfMember(ctx context.Context, userID, teamID string) (Team, error) {
	uid, err := parseID(userID)
	if err != nil {
		return Team{}, err
	}
	tid, err := parseID(teamID)
	if err != nil {
		return Team{}, err
	}
	var t Team
	err = s.pool.QueryRow(ctx, `SELECT t.id::text, t.slug, t.name, m.role
		FROM teams t JOIN memberships m ON m.team_id = t.id
		WHERE t.id = $2 AND m.user_id = $1`, uid, tid).Scan(&t.ID, &t.Slug, &t.Name, &t.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return Team{}, ErrNotFound
	}
	return t, err
}

// Members lists a team's members, owners first, then by email.
func (s *Store) Members(ctx context.Context, teamID string) ([]Member, error) {
	tid, err := parseID(teamID)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, membersQuery, tid)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return pgx.CollectRows(rows, scanMember)
}

const membersQuery = `SELECT u.id::text, u.email, u.display_name, m.role
	FROM memberships m JOIN users u ON u.id = m.user_id
	WHERE m.team_id = $1
	ORDER BY array_position(ARRAY['owner', 'admin', 'member'], m.role), lower(u.email)`

func scanMember(r pgx.CollectableRow) (Member, error) {
	var m Member
	err := r.Scan(&m.UserID, &m.Email, &m.Name, &m.Role)
	return m, err
}

// MembershipRule decides whether actor may end target's membership, given
// every member of the team. It returns nil to allow.
type MembershipRule func(actor, target Member, members []Member) error

// EndMembership ends target's membership of the team if allow permits it,
// and with it every connection of target into the team, in one transaction;
// it returns the connections it revoked. The team's memberships are locked
// while allow decides, so a concurrent change cannot slip between the check
// and the removal. ErrNotFound means the actor or the target is not a
// member.
func (s *Store) EndMembership(ctx context.Context, actorID, teamID, targetID string, allow MembershipRule) ([]Revoked, error) {
	tid, err := parseID(teamID)
	if err != nil {
		return nil, err
	}
	if _, err := parseID(actorID); err != nil {
		return nil, err
	}
	uid, err := parseID(targetID)
	if err != nil {
		return nil, err
	}
	var revoked []Revoked
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, membersQuery+` FOR UPDATE OF m`, tid)
		if err != nil {
			return fmt.Errorf("lock members: %w", err)
		}
		members, err := pgx.CollectRows(rows, scanMember)
		if err != nil {
			return fmt.Errorf("lock members: %w", err)
		}
		var actor, target *Member
		for i := range members {
			if members[i].UserID == actorID {
				actor = &members[i]
			}
			if members[i].UserID == targetID {
				target = &members[i]
			}
		}
		if actor == nil || target == nil {
			return ErrNotFound
		}
		if err := allow(*actor, *target, members); err != nil {
			return err
		}
		// Revoked here rather than by the memberships_ended trigger, so that
		// the caller learns which connections ended.
		if revoked, err = s.revoke(ctx, tx, `user_id = $1 AND team_id = $2`, uid, tid); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM memberships WHERE team_id = $1 AND user_id = $2`, tid, uid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

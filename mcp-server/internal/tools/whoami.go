package tools

import (
	"context"

	"github.com/mcp-oauth/mcp-server/internal/gate"
)

type whoamiInput struct{}

// WhoamiOutput describes the connection a session runs under.
type WhoamiOutput struct {
	User         WhoamiUser `json:"user"`
	Team         WhoamiTeam `json:"team"`
	ClientID     string     `json:"client_id" jsonschema:"the OAuth client (MCP client) that holds the token"`
	ConnectionID string     `json:"connection_id" jsonschema:"the approved connection; the user can revoke it in the consent app"`
	Scopes       []string   `json:"scopes" jsonschema:"the scopes granted to this connection"`
}

// WhoamiUser is the signed-in user.
type WhoamiUser struct {
	ID          string `json:"id"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name,omitempty"`
}

// WhoamiTeam is the team the connection is bound to.
type WhoamiTeam struct {
	ID   string `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

func (t *tools) whoami(ctx context.Context, id *gate.Identity, _ whoamiInput) (WhoamiOutput, error) {
	user, err := t.store.User(ctx, id.UserID)
	if err != nil {
		return WhoamiOutput{}, t.lookupFailed(ctx, "whoami", err)
	}
	team, err := t.store.Team(ctx, id.TeamID)
	if err != nil {
		return WhoamiOutput{}, t.lookupFailed(ctx, "whoami", err)
	}
	return WhoamiOutput{
		User:         WhoamiUser{ID: user.ID, Email: user.Email, DisplayName: user.DisplayName},
		Team:         WhoamiTeam{ID: team.ID, Slug: team.Slug, Name: team.Name},
		ClientID:     id.ClientID,
		ConnectionID: id.ConnectionID,
		// Never null: the output schema says array.
		Scopes: append([]string{}, id.Scopes...),
	}, nil
}

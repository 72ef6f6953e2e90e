package store_test

import (
	"errors"
	"testing"

	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/store/storetest"
	"github.com/mcp-oauth/ops/pgtest"
)

// TestHotQueriesUseIndexes keeps the lookups by id on their uuid indexes:
// a parameter compared as text (id::text = $1) would make each one a
// sequential scan of its table — the token hook's on every token refresh.
func TestHotQueriesUseIndexes(t *testing.T) {
	db := storetest.New(t)
	const id = "00000000-0000-4000-8000-000000000001"
	for _, q := range []struct {
		name   string
		query  string
		args   []string
		tables []string
	}{
		{"ConnectionState (token hook, every refresh)", store.ConnectionStateQuery, []string{id},
			[]string{"connections", "memberships"}},
		{"RecordConnection (token hook, code exchange)", store.RecordConnectionQuery,
			[]string{id, "client", "name", "{}", id, id}, []string{"memberships"}},
		{"UserByID", store.UserByIDQuery, []string{id}, []string{"users"}},
		{"TeamsOfUser", store.TeamsOfUserQuery, []string{id}, []string{"memberships", "teams"}},
	} {
		pgtest.Explain(t, db.Pool, q.query, q.args...).UsesIndexes(t, q.name, q.tables...)
	}
}

// TestMalformedIDsAreNotFound: an id that is not a UUID is parsed before
// the query and answers as an id that does not exist, never as an error
// (which the handlers would turn into a 500).
func TestMalformedIDsAreNotFound(t *testing.T) {
	db := storetest.New(t)
	ctx := t.Context()
	for _, bad := range []string{"", "not-a-uuid", "'; DROP TABLE users; --", "00000000-0000-4000-8000-00000000000"} {
		if _, err := db.Store.UserByID(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UserByID(%q) = %v, want ErrNotFound", bad, err)
		}
		if teams, err := db.Store.TeamsOfUser(ctx, bad); err != nil || len(teams) != 0 {
			t.Errorf("TeamsOfUser(%q) = %v, %v, want none", bad, teams, err)
		}
		if st, err := db.Store.ConnectionState(ctx, bad); err != nil || st.Exists {
			t.Errorf("ConnectionState(%q) = %+v, %v, want one that does not exist", bad, st, err)
		}
		c := store.Connection{ID: store.NewConnectionID(), UserID: bad, TeamID: db.Teams["acme"], ClientID: "c"}
		if err := db.Store.RecordConnection(ctx, c); err != nil {
			t.Errorf("RecordConnection(user %q) = %v, want nothing recorded and no error", bad, err)
		}
		c.UserID, c.TeamID = db.Users["alice@example.com"], bad
		if err := db.Store.RecordConnection(ctx, c); err != nil {
			t.Errorf("RecordConnection(team %q) = %v, want nothing recorded and no error", bad, err)
		}
		if st, err := db.Store.ConnectionState(ctx, c.ID); err != nil || st.Exists {
			t.Errorf("a connection of a malformed id was recorded: %+v, %v", st, err)
		}
	}
}

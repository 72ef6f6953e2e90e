package tokenhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/store"
)

func TestDecide(t *testing.T) {
	live := store.ConnectionState{Exists: true, UserID: "u1", TeamID: "t1", ClientID: "c1", Member: true}
	with := func(f func(*store.ConnectionState)) store.ConnectionState { s := live; f(&s); return s }
	tests := []struct {
		name   string
		grants []string
		subj   string
		client string
		conn   string
		st     store.ConnectionState
		want   Refusal // "" = allowed
	}{
		{"code exchange", []string{"authorization_code"}, "u1", "c1", "k1", live, ""},
		{"refresh", []string{"refresh_token"}, "u1", "c1", "k1", live, ""},
		{"client credentials", []string{"client_credentials"}, "u1", "c1", "k1", live, RefusedGrantType},
		{"jwt bearer", []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "u1", "c1", "k1", live, RefusedGrantType},
		{"no grant", nil, "u1", "c1", "k1", live, RefusedGrantType},
		{"no connection claim", []string{"refresh_token"}, "u1", "c1", "", store.ConnectionState{}, RefusedNoConnection},
		{"unknown connection", []string{"refresh_token"}, "u1", "c1", "k1", store.ConnectionState{}, RefusedUnknownConnection},
		{"revoked", []string{"refresh_token"}, "u1", "c1", "k1", with(func(s *store.ConnectionState) { s.Revoked = true }), RefusedRevoked},
		{"left team", []string{"refresh_token"}, "u1", "c1", "k1", with(func(s *store.ConnectionState) { s.Member = false }), RefusedNotMember},
		{"other user", []string{"refresh_token"}, "u2", "c1", "k1", live, RefusedNotOwner},
		{"other client", []string{"refresh_token"}, "u1", "c2", "k1", live, RefusedNotOwner},
		{"settings sign-in", []string{"authorization_code"}, "u1", firstparty.ClientID, "", store.ConnectionState{}, ""},
		{"settings refresh", []string{"refresh_token"}, "u1", firstparty.ClientID, "", store.ConnectionState{}, RefusedFirstPartyRefresh},
		{"settings client credentials", []string{"client_credentials"}, "u1", firstparty.ClientID, "", store.ConnectionState{}, RefusedGrantType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.grants, tt.subj, tt.client, tt.conn, tt.st)
			if v.Allow != (tt.want == "") || v.Refusal != tt.want {
				t.Errorf("Decide() = %+v, want refusal %q", v, tt.want)
			}
		})
	}
}

type fakeConnections struct {
	st        store.ConnectionState
	err       error
	recordErr error
	recorded  *[]store.Connection
}

func (f fakeConnections) RecordConnection(_ context.Context, c store.Connection) error {
	if f.recorded != nil {
		*f.recorded = append(*f.recorded, c)
	}
	return f.recordErr
}

func (f fakeConnections) ConnectionState(context.Context, string) (store.ConnectionState, error) {
	return f.st, f.err
}

// codeExchange is the hook payload of a code exchange after an approval.
const codeExchange = `{"session":{"extra":{"connection_id":"k1","team_id":"t1","team_slug":"acme","client_name":"Claude",` +
	`"connection_scopes":["invoices:read","offline_access","openid"]},"id_token":{"subject":"u1"}},` +
	`"request":{"client_id":"c1","grant_types":["authorization_code"],"granted_scopes":[]}}`

func TestRequestConnection(t *testing.T) {
	var req Request
	if err := json.Unmarshal([]byte(codeExchange), &req); err != nil {
		t.Fatal(err)
	}
	c, ok := req.Connection()
	want := store.Connection{ID: "k1", UserID: "u1", TeamID: "t1", ClientID: "c1", ClientName: "Claude", Scopes: []string{"invoices:read"}}
	if !ok || !reflect.DeepEqual(c, want) {
		t.Errorf("Connection() = %+v, %v; want %+v", c, ok, want)
	}

	refresh := req
	refresh.Request.GrantTypes = []string{"refresh_token"}
	if _, ok := refresh.Connection(); ok {
		t.Error("a refresh records a connection")
	}
	unnamed := req
	unnamed.Session.Extra = map[string]any{"connection_id": "k1", "team_id": "t1"}
	if c, ok := unnamed.Connection(); !ok || c.ClientName != "c1" || c.Scopes == nil || len(c.Scopes) != 0 {
		t.Errorf("without client_name and scopes: %+v, %v; want the client id as the name and no scopes", c, ok)
	}
	noTeam := req
	noTeam.Session.Extra = map[string]any{"connection_id": "k1", "team_id": 7}
	if _, ok := noTeam.Connection(); ok {
		t.Error("a session without a team id records a connection")
	}
}

func TestServeHook(t *testing.T) {
	gin.SetMode(gin.TestMode)
	const key = "0123456789abcdef"
	body := `{"session":{"extra":{"connection_id":"k1","team_id":"t1"},"id_token":{"subject":"u1"}},"request":{"client_id":"c1","grant_types":["refresh_token"]}}`
	live := store.ConnectionState{Exists: true, UserID: "u1", TeamID: "t1", ClientID: "c1", Member: true}
	var recorded []store.Connection
	tests := []struct {
		name   string
		key    string
		body   string
		conns  fakeConnections
		status int
	}{
		{"allowed", key, body, fakeConnections{st: live}, http.StatusNoContent},
		{"code exchange records the connection", key, codeExchange, fakeConnections{st: live, recorded: &recorded}, http.StatusNoContent},
		{"code exchange, database down", key, codeExchange, fakeConnections{st: live, recordErr: errors.New("down")}, http.StatusServiceUnavailable},
		{"code exchange, user left the team", key, codeExchange, fakeConnections{}, http.StatusForbidden},
		{"revoked", key, body, fakeConnections{st: store.ConnectionState{Exists: true, Revoked: true, UserID: "u1", ClientID: "c1", Member: true}}, http.StatusForbidden},
		{"wrong key", "nope", body, fakeConnections{st: live}, http.StatusUnauthorized},
		{"no key", "", body, fakeConnections{st: live}, http.StatusUnauthorized},
		{"bad body", key, "{", fakeConnections{st: live}, http.StatusBadRequest},
		{"database down", key, body, fakeConnections{err: errors.New("down")}, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{APIKey: key, Connections: tt.conns, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			r := gin.New()
			r.POST("/hook", h.ServeHook)
			req := httptest.NewRequest("POST", "/hook", strings.NewReader(tt.body))
			if tt.key != "" {
				req.Header.Set(HeaderName, tt.key)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Errorf("status = %d, want %d (body %s)", rec.Code, tt.status, rec.Body)
			}
		})
	}
	if len(recorded) != 1 || recorded[0].ID != "k1" {
		t.Errorf("recorded %+v, want connection k1 once", recorded)
	}
}

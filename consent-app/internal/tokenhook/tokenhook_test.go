package tokenhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
		allow  bool
	}{
		{"code exchange", []string{"authorization_code"}, "u1", "c1", "k1", live, true},
		{"refresh", []string{"refresh_token"}, "u1", "c1", "k1", live, true},
		{"client credentials", []string{"client_credentials"}, "u1", "c1", "k1", live, false},
		{"jwt bearer", []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "u1", "c1", "k1", live, false},
		{"no grant", nil, "u1", "c1", "k1", live, false},
		{"no connection claim", []string{"refresh_token"}, "u1", "c1", "", store.ConnectionState{}, false},
		{"unknown connection", []string{"refresh_token"}, "u1", "c1", "k1", store.ConnectionState{}, false},
		{"revoked", []string{"refresh_token"}, "u1", "c1", "k1", with(func(s *store.ConnectionState) { s.Revoked = true }), false},
		{"left team", []string{"refresh_token"}, "u1", "c1", "k1", with(func(s *store.ConnectionState) { s.Member = false }), false},
		{"other user", []string{"refresh_token"}, "u2", "c1", "k1", live, false},
		{"other client", []string{"refresh_token"}, "u1", "c2", "k1", live, false},
		{"settings sign-in", []string{"authorization_code"}, "u1", firstparty.ClientID, "", store.ConnectionState{}, true},
		{"settings refresh", []string{"refresh_token"}, "u1", firstparty.ClientID, "", store.ConnectionState{}, false},
		{"settings client credentials", []string{"client_credentials"}, "u1", firstparty.ClientID, "", store.ConnectionState{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.grants, tt.subj, tt.client, tt.conn, tt.st)
			if v.Allow != tt.allow {
				t.Errorf("Decide() = %+v, want allow=%v", v, tt.allow)
			}
			if !v.Allow && v.Reason == "" {
				t.Error("a refusal has no reason")
			}
		})
	}
}

type fakeConnections struct {
	st  store.ConnectionState
	err error
}

func (f fakeConnections) ConnectionState(context.Context, string) (store.ConnectionState, error) {
	return f.st, f.err
}

func TestServeHook(t *testing.T) {
	gin.SetMode(gin.TestMode)
	const key = "0123456789abcdef"
	body := `{"session":{"extra":{"connection_id":"k1","team_id":"t1"},"id_token":{"subject":"u1"}},"request":{"client_id":"c1","grant_types":["refresh_token"]}}`
	live := store.ConnectionState{Exists: true, UserID: "u1", TeamID: "t1", ClientID: "c1", Member: true}
	tests := []struct {
		name   string
		key    string
		body   string
		conns  fakeConnections
		status int
	}{
		{"allowed", key, body, fakeConnections{st: live}, http.StatusNoContent},
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
}

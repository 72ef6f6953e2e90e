package tokenhook

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/store"
)

// FuzzServeHook sends arbitrary payloads as Hydra: a token is let through
// only for the code and refresh grants, and a connection is recorded only
// on a code exchange whose session names the connection, user and team.
func FuzzServeHook(f *testing.F) {
	f.Add(codeExchange)
	f.Add(`{"session":{"extra":{"connection_id":"k1","team_id":"t1"},"id_token":{"subject":"u1"}},"request":{"client_id":"c1","grant_types":["refresh_token"]}}`)
	f.Add(`{"session":{"extra":{"connection_id":"k1"}},"request":{"client_id":"c1","grant_types":["client_credentials"]}}`)
	f.Add(`{"session":{"extra":{"connection_id":7,"connection_scopes":"invoices:read"}},"request":{"grant_types":["authorization_code","refresh_token"]}}`)
	f.Add(`{"session":null,"request":{"grant_types":[]}}`)
	f.Add(`[]`)
	gin.SetMode(gin.TestMode)
	const key = "0123456789abcdef"
	f.Fuzz(func(t *testing.T, body string) {
		var recorded []store.Connection
		live := store.ConnectionState{Exists: true, UserID: "u1", TeamID: "t1", ClientID: "c1", Member: true}
		h := &Handler{APIKey: key, Connections: fakeConnections{st: live, recorded: &recorded}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		r := gin.New()
		r.POST("/hook", h.ServeHook)
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		req.Header.Set(HeaderName, key)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)

		var payload Request
		decoded := json.NewDecoder(strings.NewReader(body)).Decode(&payload) == nil
		grants := payload.Request.GrantTypes
		switch rec.Code {
		case http.StatusNoContent:
			if !decoded || len(grants) == 0 || slices.ContainsFunc(grants, func(g string) bool { return g != "authorization_code" && g != "refresh_token" }) {
				t.Fatalf("let a token through for grants %q: %s", grants, body)
			}
		case http.StatusForbidden, http.StatusBadRequest:
		default:
			t.Fatalf("HTTP %d for %s", rec.Code, body)
		}
		if len(recorded) == 0 {
			return
		}
		c := recorded[0]
		if len(recorded) > 1 || !slices.Equal(grants, []string{"authorization_code"}) || c.ID == "" || c.UserID == "" || c.TeamID == "" || c.ClientID == "" || c.ClientName == "" || c.Scopes == nil {
			t.Fatalf("recorded %+v for %s", recorded, body)
		}
		for _, s := range c.Scopes {
			if _, known := catalog.Lookup(s); !known {
				t.Fatalf("recorded the scope %q", s)
			}
		}
	})
}

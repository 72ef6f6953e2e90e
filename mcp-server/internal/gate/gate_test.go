package gate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcp-oauth/mcp-server/internal/introspect"
	"github.com/mcp-oauth/mcp-server/internal/store"
)

const (
	resource    = "http://localhost:8080/mcp"
	metadataURL = "http://localhost:8080/.well-known/oauth-protected-resource/mcp"
	teamID      = "11111111-1111-1111-1111-111111111111"
	otherTeamID = "22222222-2222-2222-2222-222222222222"
	connID      = "33333333-3333-3333-3333-333333333333"
	revokedID   = "44444444-4444-4444-4444-444444444444"
	otherTeamCn = "55555555-5555-5555-5555-555555555555"
	brokenDBCn  = "66666666-6666-6666-6666-666666666666"
	userID      = "77777777-7777-7777-7777-777777777777"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// token returns a Hydra introspection answer for a good access token,
// changed by edit.
func token(edit func(m map[string]any)) map[string]any {
	m := map[string]any{
		"active":     true,
		"token_use":  "access_token",
		"aud":        []string{resource},
		"exp":        now.Add(30 * time.Minute).Unix(),
		"sub":        userID,
		"client_id":  "client-1",
		"scope":      "invoices:read offline_access",
		"token_type": "Bearer",
		"ext":        map[string]any{"team_id": teamID, "connection_id": connID, "team_slug": "acme"},
	}
	if edit != nil {
		edit(m)
	}
	return m
}

func setExt(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m["ext"].(map[string]any)[key] = v }
}

// tokens maps each bearer token used in the tests to Hydra's answer.
var tokens = map[string]map[string]any{
	"tok_good":            token(nil),
	"tok_no-scope":        token(func(m map[string]any) { m["scope"] = "offline_access" }),
	"tok_inactive":        {"active": false},
	"tok_refresh":         token(func(m map[string]any) { m["token_use"] = "refresh_token" }),
	"tok_wrong-aud":       token(func(m map[string]any) { m["aud"] = []string{"http://127.0.0.1:8080/mcp"} }),
	"tok_no-aud":          token(func(m map[string]any) { delete(m, "aud") }),
	"tok_expired":         token(func(m map[string]any) { m["exp"] = now.Add(-time.Second).Unix() }),
	"tok_no-exp":          token(func(m map[string]any) { delete(m, "exp") }),
	"tok_no-sub":          token(func(m map[string]any) { delete(m, "sub") }),
	"tok_no-team":         token(setExt("team_id", nil)),
	"tok_empty-team":      token(setExt("team_id", "")),
	"tok_numeric-team":    token(setExt("team_id", 42)),
	"tok_no-connection":   token(setExt("connection_id", nil)),
	"tok_no-ext":          token(func(m map[string]any) { delete(m, "ext") }),
	"tok_unknown-conn":    token(setExt("connection_id", "99999999-9999-9999-9999-999999999999")),
	"tok_revoked":         token(setExt("connection_id", revokedID)),
	"tok_team-mismatch":   token(setExt("connection_id", otherTeamCn)),
	"tok_db-down":         token(setExt("connection_id", brokenDBCn)),
	"tok_hydra-500":       nil, // the fake answers 500
	"tok_hydra-garbage":   nil, // the fake answers non-JSON
	"tok_all-read-scopes": token(func(m map[string]any) { m["scope"] = "invoices:read accounting:read" }),
}

// fakeHydra serves the admin introspection endpoint from tokens.
func fakeHydra(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/admin/oauth2/introspect" ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("introspection request %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		tok := r.PostFormValue("token")
		switch tok {
		case "tok_hydra-500":
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		case "tok_hydra-garbage":
			w.Write([]byte("<html>"))
			return
		}
		answer, ok := tokens[tok]
		if !ok {
			answer = map[string]any{"active": false}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(answer)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type fakeConnections map[string]store.Connection

func (f fakeConnections) Connection(_ context.Context, id string) (store.Connection, error) {
	if id == brokenDBCn {
		return store.Connection{}, errors.New("connection refused")
	}
	c, ok := f[id]
	if !ok {
		return store.Connection{}, store.ErrNotFound
	}
	return c, nil
}

var connections = func() fakeConnections {
	revokedAt := now.Add(-time.Hour)
	return fakeConnections{
		connID:      {ID: connID, UserID: userID, TeamID: teamID, ClientID: "client-1"},
		revokedID:   {ID: revokedID, UserID: userID, TeamID: teamID, ClientID: "client-1", RevokedAt: &revokedAt},
		otherTeamCn: {ID: otherTeamCn, UserID: userID, TeamID: otherTeamID, ClientID: "client-1"},
	}
}()

// recorder is the protected handler: it records what got through.
type recorder struct {
	called bool
	id     *Identity
	body   []byte
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.called = true
	rec.id, _ = IdentityFrom(r.Context())
	rec.body, _ = io.ReadAll(r.Body)
	w.Write([]byte("passed"))
}

func newGate(t *testing.T, res string, introspectionURL string, logs io.Writer) func(http.Handler) http.Handler {
	t.Helper()
	return New(Options{
		Resource:     res,
		Introspector: introspect.NewCache(introspect.New(introspectionURL, nil), introspect.CacheOptions{MaxTTL: time.Minute, Now: func() time.Time { return now }}),
		Connections:  connections,
		// Debug: the checks below that no token is logged cover every line.
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return now },
	})
}

func toolCall(name string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + name + `","arguments":{}}}`
}

func TestGate(t *testing.T) {
	hydra := fakeHydra(t)
	// The 401s ask for the catalog's baseline (its read scopes), never for
	// offline_access.
	challenge := `Bearer resource_metadata="` + metadataURL + `", scope="invoices:read accounting:read"`
	invalid := `Bearer error="invalid_token", resource_metadata="` + metadataURL + `", scope="invoices:read accounting:read"`
	stepUp := func(needed, missing string) string {
		return `Bearer error="insufficient_scope", scope="` + needed + `", resource_metadata="` + metadataURL +
			`", error_description="this call needs the scope ` + missing + `, which the token was not granted; re-authorize asking for it"`
	}

	tests := []struct {
		name       string
		auth       string
		origin     string
		host       string // "" = the resource's
		body       string
		wantStatus int
		wantAuthn  string // exact WWW-Authenticate; "" means absent
		wantError  string // error code in the JSON body; "" when passed
		// wantReason is the rule that rejected the token, as the gate logs it
		// (rejection.reason); "" when no token rule rejected the request.
		wantReason string
	}{
		{name: "no header", wantStatus: 401, wantAuthn: challenge, wantError: "unauthorized"},
		{name: "basic scheme", auth: "Basic dXNlcjpwYXNz", wantStatus: 401, wantAuthn: challenge, wantError: "unauthorized"},
		{name: "bearer without token", auth: "Bearer ", wantStatus: 401, wantAuthn: challenge, wantError: "unauthorized"},
		{name: "bearer with two tokens", auth: "Bearer tok_good tok_good", wantStatus: 401, wantAuthn: challenge, wantError: "unauthorized"},
		{name: "token with bad characters", auth: "Bearer tok_go\"od", wantStatus: 401, wantAuthn: challenge, wantError: "unauthorized"},
		{name: "unknown token", auth: "Bearer tok_nope", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "inactive"},
		{name: "inactive", auth: "Bearer tok_inactive", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "inactive"},
		{name: "refresh token as bearer", auth: "Bearer tok_refresh", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "not_access_token"},
		{name: "wrong audience", auth: "Bearer tok_wrong-aud", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "wrong_audience"},
		{name: "no audience", auth: "Bearer tok_no-aud", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "wrong_audience"},
		{name: "expired", auth: "Bearer tok_expired", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "expired"},
		{name: "no expiry", auth: "Bearer tok_no-exp", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "expired"},
		{name: "no subject", auth: "Bearer tok_no-sub", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "no_subject"},
		{name: "missing team claim", auth: "Bearer tok_no-team", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "no_team"},
		{name: "empty team claim", auth: "Bearer tok_empty-team", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "no_team"},
		{name: "numeric team claim", auth: "Bearer tok_numeric-team", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "no_team"},
		{name: "missing connection claim", auth: "Bearer tok_no-connection", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "no_team"},
		{name: "no ext at all", auth: "Bearer tok_no-ext", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "no_team"},
		{name: "unknown connection", auth: "Bearer tok_unknown-conn", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "unknown_connection"},
		{name: "revoked connection", auth: "Bearer tok_revoked", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "revoked_connection"},
		{name: "team mismatch", auth: "Bearer tok_team-mismatch", wantStatus: 401, wantAuthn: invalid, wantError: "invalid_token", wantReason: "team_mismatch"},
		{name: "hydra answers 500", auth: "Bearer tok_hydra-500", wantStatus: 503, wantError: "temporarily_unavailable"},
		{name: "hydra answers garbage", auth: "Bearer tok_hydra-garbage", wantStatus: 503, wantError: "temporarily_unavailable"},
		{name: "database down", auth: "Bearer tok_db-down", wantStatus: 503, wantError: "temporarily_unavailable"},
		{name: "good token, no body", auth: "Bearer tok_good", wantStatus: 200},
		{name: "lower-case scheme", auth: "bearer tok_good", wantStatus: 200},
		{name: "initialize needs no scope", auth: "Bearer tok_no-scope", body: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`, wantStatus: 200},
		{name: "whoami needs no scope", auth: "Bearer tok_no-scope", body: toolCall("whoami"), wantStatus: 200},
		{name: "unknown tool is left to MCP", auth: "Bearer tok_no-scope", body: toolCall("drop_database"), wantStatus: 200},
		{name: "malformed JSON is left to MCP", auth: "Bearer tok_no-scope", body: `{"method":"tools/call",`, wantStatus: 200},
		{name: "scope present", auth: "Bearer tok_good", body: toolCall("list_invoices"), wantStatus: 200},
		{
			name: "insufficient scope", auth: "Bearer tok_no-scope", body: toolCall("list_invoices"), wantStatus: 403,
			wantAuthn: stepUp("invoices:read", "invoices:read"),
			wantError: "insufficient_scope",
		},
		{
			name: "insufficient scope in a batch lists every needed scope", auth: "Bearer tok_good",
			body:       "[" + toolCall("list_transactions") + "," + toolCall("whoami") + "," + toolCall("list_invoices") + "]",
			wantStatus: 403,
			wantAuthn:  stepUp("invoices:read accounting:read", "accounting:read"),
			wantError:  "insufficient_scope",
		},
		{name: "batch with granted scopes", auth: "Bearer tok_all-read-scopes", body: "[" + toolCall("list_transactions") + "," + toolCall("list_invoices") + "]", wantStatus: 200},
		{
			// encoding/json would read this name as "whoami" (case-insensitive,
			// last wins); the go-sdk reads "list_invoices".
			name: "differently cased duplicate key", auth: "Bearer tok_no-scope",
			body:       `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_invoices","NAME":"whoami"}}`,
			wantStatus: 403,
			wantAuthn:  stepUp("invoices:read", "invoices:read"),
			wantError:  "insufficient_scope",
		},
		{name: "body too large", auth: "Bearer tok_good", body: `{"pad":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, wantStatus: 413, wantError: "request_too_large"},
		{name: "foreign origin", auth: "Bearer tok_good", origin: "https://evil.example", wantStatus: 403, wantError: "forbidden_origin"},
		{name: "foreign origin without token", origin: "https://evil.example", wantStatus: 403, wantError: "forbidden_origin"},
		{name: "opaque origin", auth: "Bearer tok_good", origin: "null", wantStatus: 403, wantError: "forbidden_origin"},
		{name: "same origin", auth: "Bearer tok_good", origin: "http://localhost:8080", wantStatus: 200},
		{name: "other loopback origin for a loopback server", auth: "Bearer tok_good", origin: "http://127.0.0.1:6274", wantStatus: 200},
		{name: "rebound host name", auth: "Bearer tok_good", host: "evil.example:8080", wantStatus: 403, wantError: "forbidden_host"},
		{name: "loopback address as host", auth: "Bearer tok_good", host: "127.0.0.1:8080", wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			rec := &recorder{}
			h := newGate(t, resource, hydra.URL+"/admin/oauth2/introspect", &logs)(rec)

			method := http.MethodGet
			if tt.body != "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, resource, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body)
			}
			if got := rejectedReasons(t, logs.Bytes()); !slices.Equal(got, wantReasons(tt.wantReason)) {
				t.Errorf("rejected by %q, want %q; logs: %s", got, tt.wantReason, logs.String())
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.wantAuthn {
				t.Errorf("WWW-Authenticate =\n %s\nwant\n %s", got, tt.wantAuthn)
			}
			if tt.wantStatus == 503 && w.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if tt.wantStatus == 200 {
				if !rec.called || rec.id == nil {
					t.Fatalf("protected handler called=%v identity=%v", rec.called, rec.id)
				}
				if string(rec.body) != tt.body {
					t.Errorf("handler read body %q, want the original %q", rec.body, tt.body)
				}
				if !strings.Contains(logs.String(), `"msg":"token accepted"`) || strings.Contains(logs.String(), "tok_") {
					t.Errorf("want a debug line for the accepted token, without the token: %s", logs.String())
				}
				return
			}
			if rec.called {
				t.Fatal("protected handler was called for a refused request")
			}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error != tt.wantError || body.Description == "" {
				t.Errorf("body %s: want error %q with a description (%v)", w.Body, tt.wantError, err)
			}
			if _, token, _ := strings.Cut(tt.auth, " tok_"); token != "" && strings.Contains(logs.String(), "tok_"+token) {
				t.Errorf("token %q appears in the logs: %s", token, logs.String())
			}
		})
	}
}

// rejectedReasons returns the reasons of the gate's "rejected token" log
// lines: which token rule refused the request.
func rejectedReasons(t *testing.T, logs []byte) []string {
	t.Helper()
	var reasons []string
	for line := range bytes.Lines(logs) {
		var entry struct {
			Msg    string `json:"msg"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(line, &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry.Msg == "rejected token" {
			reasons = append(reasons, entry.Reason)
		}
	}
	return reasons
}

func wantReasons(reason string) []string {
	if reason == "" {
		return nil
	}
	return []string{reason}
}

func TestGateIdentity(t *testing.T) {
	hydra := fakeHydra(t)
	rec := &recorder{}
	h := newGate(t, resource, hydra.URL+"/admin/oauth2/introspect", io.Discard)(rec)
	req := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(toolCall("list_invoices")))
	req.Header.Set("Authorization", "Bearer tok_good")
	h.ServeHTTP(httptest.NewRecorder(), req)

	want := Identity{
		UserID: userID, TeamID: teamID, TeamSlug: "acme", ConnectionID: connID, ClientID: "client-1",
		Scopes: []string{"invoices:read", "offline_access"},
	}
	if rec.id == nil {
		t.Fatal("no identity in context")
	}
	if !reflect.DeepEqual(*rec.id, want) {
		t.Errorf("identity = %+v, want %+v", *rec.id, want)
	}
}

func TestGateHydraUnreachable(t *testing.T) {
	hydra := fakeHydra(t)
	url := hydra.URL + "/admin/oauth2/introspect"
	hydra.Close()

	rec := &recorder{}
	h := newGate(t, resource, url, io.Discard)(rec)
	req := httptest.NewRequest(http.MethodGet, resource, nil)
	req.Header.Set("Authorization", "Bearer tok_good")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || rec.called {
		t.Errorf("status %d, Retry-After %q, handler called %v; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"), rec.called)
	}
	if w.Header().Get("WWW-Authenticate") != "" {
		t.Error("an outage must not look like a bad token")
	}
}

func TestOriginPolicyForPublicServer(t *testing.T) {
	p := newOriginPolicy("https://mcp.example.com/mcp")
	tests := []struct {
		origin string
		want   bool
	}{
		{"", true},
		{"https://mcp.example.com", true},
		{"https://MCP.example.com:443", true},
		{"http://mcp.example.com", false},
		{"https://mcp.example.com:8443", false},
		{"https://auth.example.com", false},
		{"http://localhost:3000", false},
		{"null", false},
	}
	for _, tt := range tests {
		if got := p.allows(tt.origin); got != tt.want {
			t.Errorf("allows(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
}

func TestHostPolicy(t *testing.T) {
	for _, tt := range []struct {
		resource, host string
		want           bool
	}{
		// Behind a reverse proxy: the public name, or loopback from a proxy
		// on the same machine.
		{"https://mcp.example.com/mcp", "mcp.example.com", true},
		{"https://mcp.example.com/mcp", "MCP.example.com:443", true},
		{"https://mcp.example.com/mcp", "127.0.0.1:8080", true},
		{"https://mcp.example.com/mcp", "[::1]:8080", true},
		{"https://mcp.example.com/mcp", "evil.example", false},
		{"https://mcp.example.com/mcp", "mcp.example.com.evil.example", false},
		{"https://mcp.example.com/mcp", "", false},
		// Local: loopback names only.
		{"http://localhost:8080/mcp", "localhost:8080", true},
		{"http://localhost:8080/mcp", "127.0.0.1:8080", true},
		{"http://localhost:8080/mcp", "[::1]", true},
		{"http://localhost:8080/mcp", "attacker.example:8080", false},
	} {
		if got := newHostPolicy(tt.resource).allows(tt.host); got != tt.want {
			t.Errorf("resource %s: allows(%q) = %v, want %v", tt.resource, tt.host, got, tt.want)
		}
	}
}

// Hydra that does not answer turns into a 503 within the gate's timeout.
func TestGateSlowHydra(t *testing.T) {
	release := make(chan struct{})
	hydra := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hydra.Close()
	defer close(release)
	rec := &recorder{}
	h := New(Options{
		Resource:     resource,
		Introspector: introspect.NewCache(introspect.New(hydra.URL, nil), introspect.CacheOptions{MaxTTL: time.Minute}),
		Connections:  connections,
		Timeout:      200 * time.Millisecond,
		Logger:       slog.New(slog.DiscardHandler),
	})(rec)
	req := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(toolCall("whoami")))
	req.Header.Set("Authorization", "Bearer tok_good")
	w := httptest.NewRecorder()
	started := time.Now()
	h.ServeHTTP(w, req)
	if took := time.Since(started); took > 5*time.Second {
		t.Errorf("answered after %s; the timeout is 200ms", took)
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || rec.called ||
		!strings.Contains(w.Body.String(), "authorization server") {
		t.Errorf("status %d, Retry-After %q, handler called %v, body %s", w.Code, w.Header().Get("Retry-After"), rec.called, w.Body)
	}
}

// mutableConnections lets a test revoke a connection.
type mutableConnections struct {
	mu    sync.Mutex
	conns fakeConnections
}

func (m *mutableConnections) Connection(ctx context.Context, id string) (store.Connection, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.conns.Connection(ctx, id)
}

// The introspection answer is cached; the connection is not, so revoking it
// takes effect on the very next request.
func TestGateRevocationBeatsTheCache(t *testing.T) {
	var lookups atomic.Int32
	hydra := fakeHydra(t)
	counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups.Add(1)
		http.Redirect(w, r, hydra.URL+"/admin/oauth2/introspect", http.StatusTemporaryRedirect)
	})
	counter := httptest.NewServer(counting)
	defer counter.Close()
	conns := &mutableConnections{conns: fakeConnections{connID: connections[connID]}}
	h := New(Options{
		Resource:     resource,
		Introspector: introspect.NewCache(introspect.New(counter.URL, nil), introspect.CacheOptions{MaxTTL: time.Minute, Now: func() time.Time { return now }}),
		Connections:  conns,
		Logger:       slog.New(slog.DiscardHandler),
		Now:          func() time.Time { return now },
	})(&recorder{})
	do := func() int {
		req := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(toolCall("whoami")))
		req.Header.Set("Authorization", "Bearer tok_good")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if a, b := do(), do(); a != 200 || b != 200 || lookups.Load() != 1 {
		t.Fatalf("statuses %d %d with %d introspections; want 200 200 with 1", a, b, lookups.Load())
	}
	revokedAt := now
	conns.mu.Lock()
	c := conns.conns[connID]
	c.RevokedAt = &revokedAt
	conns.conns[connID] = c
	conns.mu.Unlock()
	if got := do(); got != http.StatusUnauthorized || lookups.Load() != 1 {
		t.Errorf("after revocation: %d with %d introspections; want 401 from the cached answer", got, lookups.Load())
	}
}

// A tool that reports a database outage turns the whole answer into a 503.
func TestGateReportOutage(t *testing.T) {
	hydra := fakeHydra(t)
	for _, tt := range []struct {
		name     string
		handler  http.HandlerFunc
		wantCode int
	}{
		{"outage then a tool result", func(w http.ResponseWriter, r *http.Request) {
			ReportOutage(r.Context())
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{"isError":true}}`))
		}, 503},
		{"outage and nothing written", func(w http.ResponseWriter, r *http.Request) { ReportOutage(r.Context()) }, 503},
		{"no outage", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"result":{}}`)) }, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newGate(t, resource, hydra.URL+"/admin/oauth2/introspect", io.Discard)(tt.handler)
			req := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(toolCall("whoami")))
			req.Header.Set("Authorization", "Bearer tok_good")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.wantCode {
				t.Fatalf("status %d, want %d", w.Code, tt.wantCode)
			}
			if tt.wantCode == 503 && (w.Header().Get("Retry-After") == "" || strings.Contains(w.Body.String(), "result") ||
				!strings.Contains(w.Body.String(), `"error":"temporarily_unavailable"`) || !strings.Contains(w.Body.String(), "database")) {
				t.Errorf("503 headers %v body %s", w.Header(), w.Body)
			}
		})
	}
}

// A call refused for a missing scope is reported (the audit log records it
// as denied); calls that pass or fail otherwise are not.
func TestGateReportsInsufficientScope(t *testing.T) {
	hydra := fakeHydra(t)
	type report struct {
		conn  string
		tools []string
	}
	var got []report
	h := New(Options{
		Resource:     resource,
		Introspector: introspect.New(hydra.URL+"/admin/oauth2/introspect", nil),
		Connections:  connections,
		Logger:       slog.New(slog.DiscardHandler),
		Now:          func() time.Time { return now },
		OnInsufficientScope: func(_ context.Context, id *Identity, tools []string) {
			got = append(got, report{id.ConnectionID, tools})
		},
	})(&recorder{})
	for _, tool := range []string{"create_invoice", "list_invoices", "whoami"} {
		req := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(toolCall(tool)))
		req.Header.Set("Authorization", "Bearer tok_good")
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if len(got) != 1 || got[0].conn != connID || !reflect.DeepEqual(got[0].tools, []string{"create_invoice"}) {
		t.Errorf("reported %+v, want one refusal of create_invoice on %s", got, connID)
	}
}

func TestOutageReported(t *testing.T) {
	hydra := fakeHydra(t)
	var seen []bool
	h := newGate(t, resource, hydra.URL+"/admin/oauth2/introspect", io.Discard)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, OutageReported(r.Context()))
		ReportOutage(r.Context())
		seen = append(seen, OutageReported(r.Context()))
	}))
	req := httptest.NewRequest(http.MethodPost, resource, strings.NewReader(toolCall("whoami")))
	req.Header.Set("Authorization", "Bearer tok_good")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !reflect.DeepEqual(seen, []bool{false, true}) || OutageReported(context.Background()) {
		t.Errorf("OutageReported before and after ReportOutage: %v", seen)
	}
}

// unwrapOnly is a writer that flushes only through Unwrap, as
// server.Handler's statusWriter does.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// A streamed answer (a subscriptions/listen stream) reaches the client as it
// is flushed, not when the handler returns, also when the writer under the
// gate flushes only through Unwrap.
func TestGateFlushesStreamedAnswers(t *testing.T) {
	hydra := fakeHydra(t)
	release := make(chan struct{})
	h := newGate(t, resource, hydra.URL+"/admin/oauth2/introspect", io.Discard)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: message\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		<-release // the stream stays open until the test has read the event
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(unwrapOnly{w}, r) }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close, which waits for the handler

	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok_good")
	// Bounds the wait for the headers and the event: held back, they would
	// come only with the release.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("no answer while the stream is open: %v", err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if resp.StatusCode != http.StatusOK || err != nil || line != "event: message\n" {
		t.Fatalf("HTTP %d, first line %q, %v", resp.StatusCode, line, err)
	}
}

package edge

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFilterScopes(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"invoices:read openid profile offline_access", "invoices:read offline_access"},
		{"bogus", ""},
		{"accounting:write invoices:read", "invoices:read accounting:write"},
	}
	for _, tt := range tests {
		got := FilterScopes(url.Values{"scope": {tt.in}}).Get("scope")
		if got != tt.want {
			t.Errorf("FilterScopes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if q := FilterScopes(url.Values{"client_id": {"x"}}); q.Has("scope") {
		t.Error("a request without scope got one")
	}
}

func TestMetadataCorrectsHydra(t *testing.T) {
	var calls atomic.Int32
	hydraDoc := map[string]any{
		"issuer":                           "http://localhost:3000",
		"authorization_endpoint":           "http://localhost:3000/oauth2/auth",
		"code_challenge_methods_supported": []string{"plain", "S256"},
		"grant_types_supported":            []string{"authorization_code", "implicit", "client_credentials", "refresh_token"},
		"registration_endpoint":            "http://localhost:3000/oauth2/register",
		"introspection_endpoint":           "http://127.0.0.1:4445/admin/oauth2/introspect",
		"subject_types_supported":          []string{"public"},
	}
	hydraSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = json.NewEncoder(w).Encode(hydraDoc)
	}))
	defer hydraSrv.Close()
	m := &Metadata{HydraDiscoveryURL: hydraSrv.URL, PublicURL: "https://auth.example.com", Client: hydraSrv.Client(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	var doc struct {
		Issuer        string   `json:"issuer"`
		Registration  string   `json:"registration_endpoint"`
		PKCE          []string `json:"code_challenge_methods_supported"`
		Grants        []string `json:"grant_types_supported"`
		Scopes        []string `json:"scopes_supported"`
		Introspection *string  `json:"introspection_endpoint"`
		Iss           bool     `json:"authorization_response_iss_parameter_supported"`
		CIMD          bool     `json:"client_id_metadata_document_supported"`
		ResponseTypes []string `json:"response_types_supported"`
		SubjectTypes  []string `json:"subject_types_supported"`
	}
	for range 2 {
		rec := httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
		if rec.Code != 200 {
			t.Fatalf("status %d", rec.Code)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("hydra was asked %d times, want 1 (cached)", calls.Load())
	}
	if doc.Issuer != "https://auth.example.com" || doc.Registration != "https://auth.example.com/oauth2/register" {
		t.Errorf("issuer/registration = %q / %q", doc.Issuer, doc.Registration)
	}
	if !slices.Equal(doc.PKCE, []string{"S256"}) {
		t.Errorf("PKCE methods = %v, want only S256", doc.PKCE)
	}
	if !slices.Equal(doc.Grants, []string{"authorization_code", "refresh_token"}) {
		t.Errorf("grants = %v", doc.Grants)
	}
	if !slices.Contains(doc.Scopes, "invoices:read") || !slices.Contains(doc.Scopes, "offline_access") {
		t.Errorf("scopes = %v", doc.Scopes)
	}
	if !doc.Iss || !doc.CIMD || !slices.Equal(doc.ResponseTypes, []string{"code"}) {
		t.Errorf("iss supported %t, metadata documents supported %t, response types %v", doc.Iss, doc.CIMD, doc.ResponseTypes)
	}
	if doc.Introspection != nil {
		t.Error("the admin introspection endpoint is advertised")
	}
	if !slices.Equal(doc.SubjectTypes, []string{"public"}) {
		t.Error("Hydra's other members were lost")
	}
}

func TestMetadataHydraDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	m := &Metadata{HydraDiscoveryURL: srv.URL, PublicURL: "http://localhost:3000", Client: http.DefaultClient,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

// TestMetadataFetchOutlivesItsRequest: a client that gives up while Hydra is
// still answering (generating its keys, the first time) does not abort the
// fetch; the next request gets the document from that same single fetch.
func TestMetadataFetchOutlivesItsRequest(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
			t.Error("the fetch was cancelled with the request that started it")
			return
		}
		_, _ = io.WriteString(w, `{"issuer":"http://127.0.0.1:4444"}`)
	}))
	defer srv.Close()
	m := &Metadata{HydraDiscoveryURL: srv.URL, PublicURL: "http://localhost:3000", Client: srv.Client(),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}

	ctx, cancel := context.WithCancel(t.Context())
	req := httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	served := make(chan struct{})
	go func() { m.ServeHTTP(rec, req); close(served) }()
	cancel()
	<-served
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("a request that gave up: status %d", rec.Code)
	}
	close(release)
	for range 2 {
		rec = httptest.NewRecorder()
		m.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"issuer":"http://localhost:3000"`) {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("Hydra was asked %d times, want once", n)
	}
}

// TestMetadataStaleWhenHydraFails: once loaded, the document is served
// from its last copy while Hydra cannot answer.
func TestMetadataStaleWhenHydraFails(t *testing.T) {
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, `{"issuer":"http://127.0.0.1:4444"}`)
	}))
	defer srv.Close()
	m := &Metadata{HydraDiscoveryURL: srv.URL, PublicURL: "http://localhost:3000", Client: srv.Client(),
		TTL: time.Nanosecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	m.Warm(t.Context())
	down.Store(true)
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/.well-known/oauth-authorization-server", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("Hydra failing after a first load: status %d, want the last copy", rec.Code)
	}
}

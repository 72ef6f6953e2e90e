package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/oautherr"
)

// Metadata serves RFC 8414 authorization server metadata and a corrected
// OpenID discovery document, both built from Hydra's own discovery document.
type Metadata struct {
	// HydraDiscoveryURL is Hydra's /.well-known/openid-configuration on its
	// internal public listener.
	HydraDiscoveryURL string
	// PublicURL is the issuer.
	PublicURL string
	Client    *http.Client
	// TTL bounds how long Hydra's document is reused; zero means one minute.
	TTL time.Duration
	// FetchTimeout bounds one fetch of Hydra's document; zero means one
	// minute. A fetch is not cut short when the request that started it
	// gives up: Hydra generates its signing keys during its first discovery
	// answer (seconds on a small machine), and an aborted answer makes it
	// start again from nothing on the next.
	FetchTimeout time.Duration
	Log          *slog.Logger

	mu       sync.Mutex
	cached   map[string]any
	fetched  time.Time
	fetching chan struct{} // closed when the fetch under way ends; nil = none
	fetchErr error         // how the last fetch failed, if it did
}

// Correct rewrites Hydra's discovery document into what MCP clients need.
// It is pure: the input is not modified.
func Correct(hydraDoc map[string]any, publicURL string) map[string]any {
	doc := make(map[string]any, len(hydraDoc)+4)
	for k, v := range hydraDoc {
		doc[k] = v
	}
	doc["issuer"] = publicURL
	doc["authorization_endpoint"] = publicURL + "/oauth2/auth"
	doc["token_endpoint"] = publicURL + "/oauth2/token"
	doc["revocation_endpoint"] = publicURL + "/oauth2/revoke"
	doc["jwks_uri"] = publicURL + "/.well-known/jwks.json"
	doc["userinfo_endpoint"] = publicURL + "/userinfo"
	doc["end_session_endpoint"] = publicURL + "/oauth2/sessions/logout"
	// Our registration front, not Hydra's (which is disabled).
	doc["registration_endpoint"] = publicURL + "/oauth2/register"
	// Hydra advertises plain but rejects it; S256 is all we accept.
	doc["code_challenge_methods_supported"] = []string{"S256"}
	doc["scopes_supported"] = catalog.ClientScopes()
	doc["response_types_supported"] = []string{"code"}
	doc["response_modes_supported"] = []string{"query"}
	doc["grant_types_supported"] = []string{"authorization_code", "refresh_token"}
	doc["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "none"}
	doc["revocation_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post", "none"}
	// Added at the edge: RFC 9207 iss on every authorization response, and
	// client_id URLs resolved by package clientmeta.
	doc["authorization_response_iss_parameter_supported"] = true
	doc["client_id_metadata_document_supported"] = true
	// Endpoints we do not expose publicly.
	for _, k := range []string{"introspection_endpoint", "device_authorization_endpoint", "credentials_endpoint_draft_00",
		"credentials_supported_draft_00", "backchannel_logout_supported", "backchannel_logout_session_supported",
		"frontchannel_logout_supported", "frontchannel_logout_session_supported", "request_parameter_supported",
		"request_uri_parameter_supported", "require_request_uri_registration"} {
		delete(doc, k)
	}
	return doc
}

// ServeHTTP answers with the corrected document.
func (m *Metadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	doc, err := m.document(r.Context())
	if err != nil {
		m.Log.ErrorContext(r.Context(), "fetch hydra discovery", "err", err)
		oautherr.Unavailable(w, "authorization server metadata is unavailable; try again shortly")
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, doc)
}

// Warm fetches Hydra's document ahead of the first client, so that the
// signing keys exist before anyone waits for them.
func (m *Metadata) Warm(ctx context.Context) {
	if _, err := m.document(ctx); err != nil {
		m.Log.WarnContext(ctx, "hydra discovery not loaded yet; the first client will load it", "err", err)
	}
}

// document returns the corrected document: the cached one while fresh,
// else the result of one fetch shared by every caller waiting for it. When
// Hydra cannot answer, a stale copy is better than none.
func (m *Metadata) document(ctx context.Context) (map[string]any, error) {
	ttl := m.TTL
	if ttl == 0 {
		ttl = time.Minute
	}
	m.mu.Lock()
	if m.cached != nil && time.Since(m.fetched) < ttl {
		defer m.mu.Unlock()
		return m.cached, nil
	}
	if m.fetching == nil {
		m.fetching = make(chan struct{})
		go m.fetch(m.fetching)
	}
	done := m.fetching
	m.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cached != nil {
		return m.cached, nil
	}
	return nil, m.fetchErr
}

// fetch loads Hydra's document under its own deadline and closes done.
func (m *Metadata) fetch(done chan struct{}) {
	timeout := m.FetchTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	doc, err := m.load(ctx)
	m.mu.Lock()
	if err == nil {
		m.cached, m.fetched = doc, time.Now()
	} else if m.cached != nil {
		m.Log.WarnContext(ctx, "hydra discovery failed; serving the last copy", "err", err)
	}
	m.fetchErr, m.fetching = err, nil
	m.mu.Unlock()
	close(done)
}

func (m *Metadata) load(ctx context.Context) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.HydraDiscoveryURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("hydra discovery: HTTP %d", resp.StatusCode)
	}
	var hydraDoc map[string]any
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&hydraDoc); err != nil {
		return nil, fmt.Errorf("hydra discovery: %w", err)
	}
	return Correct(hydraDoc, m.PublicURL), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

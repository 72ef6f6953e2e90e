package clientmeta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/loopback"
	"github.com/mcp-oauth/consent-app/internal/store"
)

// ErrUnavailable means our database or Hydra failed while resolving a
// client: not the client's fault, worth retrying.
var ErrUnavailable = errors.New("clientmeta: client resolution is unavailable")

// Store keeps the URL-to-Hydra-id mapping and the fetch cache.
type Store interface {
	ClientDocument(ctx context.Context, url string) (store.ClientDocument, error)
	SaveClientDocument(ctx context.Context, d store.ClientDocument) error
}

// HydraClients writes Hydra clients with a chosen id.
type HydraClients interface {
	PutClient(ctx context.Context, cl hydra.OAuth2Client) error
}

// Resolver turns a client identifier URL into the id of a Hydra client that
// mirrors a fresh copy of its document.
type Resolver struct {
	Fetcher *Fetcher
	// Known are the pinned clients, whose documents are never fetched; nil
	// pins none.
	Known          *Known
	Store          Store
	Hydra          HydraClients
	MCPResourceURL string
	Log            *slog.Logger
	// Now is the clock; nil = time.Now.
	Now func() time.Time
}

// Resolve returns the Hydra client id for clientIDURL. A pinned client's
// document is the catalog's; any other is fetched again when the cached
// copy is stale. It checks that redirectURI ("" = none given) is one the
// document lists. An *Error is the client's to fix; ErrUnavailable is ours.
func (r *Resolver) Resolve(ctx context.Context, clientIDURL, redirectURI string) (string, error) {
	u, err := ParseURL(clientIDURL, r.Fetcher.AllowLoopback)
	if err != nil {
		return "", err
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	cached, err := r.Store.ClientDocument(ctx, clientIDURL)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: look up client document: %v", ErrUnavailable, err)
	}
	if known, ok := r.Known.Lookup(clientIDURL); ok {
		return r.mirror(ctx, clientIDURL, u, cached, document{body: known.Document, name: known.Name, pinned: true}, now, redirectURI)
	}
	if err == nil && now.Before(cached.FreshUntil) {
		return cached.HydraClientID, checkRedirect(cached.RedirectURIs, redirectURI, clientIDURL)
	}
	fetched, err := r.Fetcher.Fetch(ctx, u)
	if err != nil {
		return "", err
	}
	return r.mirror(ctx, clientIDURL, u, cached, document{body: fetched.Body, freshFor: fetched.FreshFor}, now, redirectURI)
}

// document is a client's metadata document as fetched or pinned.
type document struct {
	body []byte
	// name, when set, is the pinned client's name, shown instead of the
	// document's client_name.
	name     string
	pinned   bool
	freshFor time.Duration
}

// mirror validates a document, puts it into Hydra when it differs from the
// copy last mirrored (cached), records it and checks the redirect URI.
func (r *Resolver) mirror(ctx context.Context, clientIDURL string, u *url.URL, cached store.ClientDocument, doc document, now time.Time, redirectURI string) (string, error) {
	m, err := ValidateDocument(doc.body, clientIDURL)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(doc.body)
	if doc.name != "" {
		m.ClientName = doc.name
		h.Write([]byte("\x00" + doc.name))
	}
	rec := store.ClientDocument{
		URL:            clientIDURL,
		HydraClientID:  HydraID(clientIDURL),
		ClientName:     m.ClientName,
		RedirectURIs:   m.RedirectURIs,
		DocumentSHA256: hex.EncodeToString(h.Sum(nil)),
		FetchedAt:      now,
		FreshUntil:     now.Add(doc.freshFor),
	}
	changed := cached.DocumentSHA256 != rec.DocumentSHA256
	if changed {
		if err := r.Hydra.PutClient(ctx, HydraClient(m, clientIDURL, u, r.MCPResourceURL)); err != nil {
			return "", fmt.Errorf("%w: mirror client into Hydra: %v", ErrUnavailable, err)
		}
		r.Log.InfoContext(ctx, "client metadata document registered", "client_id", clientIDURL, "hydra_client_id", rec.HydraClientID,
			"client_name", m.ClientName, "redirect_uris", m.RedirectURIs, "pinned", doc.pinned, "fresh_for", doc.freshFor)
	}
	// A pinned copy is written only when it changes: no write per sign-in.
	if changed || !doc.pinned {
		if err := r.Store.SaveClientDocument(ctx, rec); err != nil {
			return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	return rec.HydraClientID, checkRedirect(rec.RedirectURIs, redirectURI, clientIDURL)
}

// checkRedirect refuses a redirect URI the document does not list, before
// Hydra does, with a message that says where to fix it. A loopback redirect
// may use any port (RFC 8252 §7.3).
func checkRedirect(registered []string, redirectURI, clientIDURL string) error {
	if redirectURI == "" || loopback.Match(registered, redirectURI) {
		return nil
	}
	return errorf("redirect_uri %q is not listed in the client metadata document at %s", redirectURI, clientIDURL)
}

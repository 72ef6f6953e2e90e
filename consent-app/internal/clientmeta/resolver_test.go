package clientmeta

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/store"
)

// docServer serves documents by path over TLS on 127.0.0.1.
type docServer struct {
	*httptest.Server
	fetches atomic.Int32
	handle  func(w http.ResponseWriter, r *http.Request)
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.fetches.Add(1)
		d.handle(w, r)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *docServer) roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(d.Certificate())
	return pool
}

func serveJSON(body string, headers ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		_, _ = io.WriteString(w, body)
	}
}

func TestFetch(t *testing.T) {
	srv := newDocServer(t)
	u, _ := url.Parse(srv.URL + "/client.json")
	tests := []struct {
		name          string
		handle        func(http.ResponseWriter, *http.Request)
		allowLoopback bool
		wantErr       string
	}{
		{"ok", serveJSON(`{}`, "Cache-Control", "max-age=60"), true, ""},
		{"json subtype", serveJSON(`{}`, "Content-Type", "application/oauth-client+json"), true, ""},
		{"loopback outside development", serveJSON(`{}`), false, "private or reserved address"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://169.254.169.254/latest", http.StatusFound)
		}, true, "redirects are not followed"},
		{"not found", http.NotFound, true, "HTTP 404"},
		{"html", serveJSON(`{}`, "Content-Type", "text/html"), true, "must be application/json"},
		{"too large", serveJSON(`{"x":"` + strings.Repeat("a", DefaultMaxBytes) + `"}`), true, "larger than"},
		{"too slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, true, "time limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.handle = tt.handle
			f := &Fetcher{AllowLoopback: tt.allowLoopback, RootCAs: srv.roots(), Timeout: 300 * time.Millisecond}
			got, err := f.Fetch(t.Context(), u)
			if tt.wantErr == "" {
				if err != nil || string(got.Body) != "{}" {
					t.Fatalf("Fetch = %q, %v", got.Body, err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(ce.Description, tt.wantErr) {
				t.Fatalf("Fetch = %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		srv.handle = serveJSON(`{}`)
		_, err := (&Fetcher{AllowLoopback: true}).Fetch(t.Context(), u)
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Description, "cannot be verified") {
			t.Fatalf("Fetch = %v, want a certificate error", err)
		}
	})
}

type fakeStore struct {
	docs map[string]store.ClientDocument
}

func (s *fakeStore) ClientDocument(_ context.Context, url string) (store.ClientDocument, error) {
	d, ok := s.docs[url]
	if !ok {
		return store.ClientDocument{}, store.ErrNotFound
	}
	return d, nil
}

func (s *fakeStore) SaveClientDocument(_ context.Context, d store.ClientDocument) error {
	s.docs[d.URL] = d
	return nil
}

type fakeHydra struct {
	puts []hydra.OAuth2Client
	err  error
}

func (h *fakeHydra) PutClient(_ context.Context, cl hydra.OAuth2Client) error {
	h.puts = append(h.puts, cl)
	return h.err
}

func TestResolve(t *testing.T) {
	srv := newDocServer(t)
	clientID := srv.URL + "/client.json"
	doc := `{"client_id":"` + clientID + `","client_name":"Test App","redirect_uris":["http://127.0.0.1:3333/callback"]}`
	srv.handle = serveJSON(doc, "Cache-Control", "max-age=60")
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	st, hy := &fakeStore{docs: map[string]store.ClientDocument{}}, &fakeHydra{}
	r := &Resolver{
		Fetcher:        &Fetcher{AllowLoopback: true, RootCAs: srv.roots()},
		Store:          st,
		Hydra:          hy,
		MCPResourceURL: "http://localhost:8080/mcp",
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:            func() time.Time { return now },
	}
	resolve := func(redirect string) (string, error) { return r.Resolve(t.Context(), clientID, redirect) }

	id, err := resolve("http://127.0.0.1:3333/callback")
	if err != nil || id != HydraID(clientID) {
		t.Fatalf("Resolve = %q, %v", id, err)
	}
	if len(hy.puts) != 1 || hy.puts[0].GetClientName() != "Test App" || st.docs[clientID].FreshUntil != now.Add(time.Minute) {
		t.Fatalf("first resolve: puts %d, record %+v", len(hy.puts), st.docs[clientID])
	}

	// Within max-age: no fetch, no Hydra write, and the redirect check still applies.
	if _, err := resolve("http://127.0.0.1:3333/callback"); err != nil || srv.fetches.Load() != 1 || len(hy.puts) != 1 {
		t.Fatalf("cached resolve: %v, fetches %d, puts %d", err, srv.fetches.Load(), len(hy.puts))
	}
	var ce *Error
	if _, err := resolve("http://127.0.0.1:4444/elsewhere"); !errors.As(err, &ce) || !strings.Contains(ce.Description, "not listed") {
		t.Fatalf("unlisted redirect: %v", err)
	}

	// Stale, same document: fetched again, Hydra left alone.
	now = now.Add(2 * time.Minute)
	if _, err := resolve(""); err != nil || srv.fetches.Load() != 2 || len(hy.puts) != 1 {
		t.Fatalf("stale unchanged: %v, fetches %d, puts %d", err, srv.fetches.Load(), len(hy.puts))
	}

	// Stale, changed document: Hydra is updated.
	now = now.Add(2 * time.Minute)
	srv.handle = serveJSON(strings.Replace(doc, "3333", "3334", 1), "Cache-Control", "no-store")
	if _, err := resolve("http://127.0.0.1:3334/callback"); err != nil || len(hy.puts) != 2 ||
		hy.puts[1].RedirectUris[0] != "http://127.0.0.1:3334/callback" {
		t.Fatalf("changed document: %v, puts %d", err, len(hy.puts))
	}

	// A document that went bad is refused, even with a record in place.
	srv.handle = serveJSON(`{"client_id":"https://other.example/c","redirect_uris":["https://x.example/cb"]}`)
	if _, err := resolve(""); !errors.As(err, &ce) {
		t.Fatalf("bad document: %v", err)
	}

	// Hydra failing is ours, not the client's.
	hy.err = errors.New("hydra down")
	srv.handle = serveJSON(strings.Replace(doc, "Test App", "Renamed", 1))
	if _, err := resolve(""); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("hydra down: %v, want ErrUnavailable", err)
	}

	// A URL refused by its shape is never fetched.
	before := srv.fetches.Load()
	r.Fetcher = &Fetcher{RootCAs: srv.roots()}
	if _, err := resolve(""); !errors.As(err, &ce) || srv.fetches.Load() != before {
		t.Fatalf("loopback outside development: %v, fetches %d -> %d", err, before, srv.fetches.Load())
	}
}

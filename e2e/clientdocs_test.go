package e2e

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// clientDocServer is a client's website: it serves Client ID Metadata
// Documents over TLS on 127.0.0.1. The consent app trusts its certificate
// through the stack's ClientMetadataCAFile (development mode).
type clientDocServer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	docs map[string]servedDoc // by path
}

type servedDoc struct {
	body         []byte
	cacheControl string
}

// startClientDocs starts the server and writes its certificate to a PEM
// file in dir for the consent app to trust.
func startClientDocs(dir string) (*clientDocServer, string, error) {
	d := &clientDocServer{docs: map[string]servedDoc{}}
	d.srv = httptest.NewTLSServer(http.HandlerFunc(d.serve))
	caFile := filepath.Join(dir, "client-docs-ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d.srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o644); err != nil {
		d.srv.Close()
		return nil, "", err
	}
	return d, caFile, nil
}

func (d *clientDocServer) serve(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	doc, ok := d.docs[r.URL.Path]
	d.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", doc.cacheControl)
	_, _ = w.Write(doc.body)
}

// host is the server's host:port, which the consent page must show as the
// client's verified identity.
func (d *clientDocServer) host() string { return strings.TrimPrefix(d.srv.URL, "https://") }

// publish serves a document for a public client with one redirect URI at a
// path named after the test, cacheable for five minutes, and returns its
// URL: the client_id.
func (d *clientDocServer) publish(t *testing.T, name, redirectURI string) string {
	t.Helper()
	clientID := d.srv.URL + "/clients/" + strings.ReplaceAll(t.Name(), "/", "-") + ".json"
	d.put(t, clientID, "max-age=300", map[string]any{
		"client_id":                  clientID,
		"client_name":                name,
		"redirect_uris":              []string{redirectURI},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
	})
	return clientID
}

// put serves doc at docURL, on this server, with the given Cache-Control.
func (d *clientDocServer) put(t *testing.T, docURL, cacheControl string, doc map[string]any) {
	t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.docs[strings.TrimPrefix(docURL, d.srv.URL)] = servedDoc{body: body, cacheControl: cacheControl}
	d.mu.Unlock()
}

package clientmeta

import (
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	hydra "github.com/ory/hydra-client-go/v2"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw           string
		allowLoopback bool
		wantErr       string
	}{
		{"https://app.example.com/oauth/client.json", false, ""},
		{"https://app.example.com:8443/client", false, ""},
		{"https://app.example.com", false, "has no path"},
		{"https://app.example.com/", false, "has no path"},
		{"http://app.example.com/client.json", false, "must use https"},
		{"ftp://app.example.com/client.json", false, "must use https"},
		{"https://user:pw@app.example.com/client.json", false, "user information"},
		{"https://app.example.com/client.json#x", false, "fragment"},
		{"https://app.example.com/client.json?v=1", false, "query"},
		{"https://app.example.com/a/../client.json", false, ". or .."},
		{"https://app.example.com/./client.json", false, ". or .."},
		{"https://127.0.0.1:8443/client.json", false, "development mode"},
		{"http://localhost:9000/client.json", false, "development mode"},
		{"https://127.0.0.1:8443/client.json", true, ""},
		{"http://localhost:9000/client.json", true, ""},
		{"http://app.example.com/client.json", true, "must use https"},
		{"https:///client.json", false, "not an absolute URL"},
		{"https://app.example.com/\xff.json", false, "not valid UTF-8"},
		{"https://app.example.com/a\x00.json", false, "not an absolute URL"},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.raw, tt.allowLoopback)
		var ce *Error
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseURL(%q) = %v, want ok", tt.raw, err)
		case tt.wantErr != "" && (!errors.As(err, &ce) || !strings.Contains(ce.Description, tt.wantErr)):
			t.Errorf("ParseURL(%q) = %v, want an error about %q", tt.raw, err, tt.wantErr)
		}
	}
}

func TestHydraIDIsStableAndAddressable(t *testing.T) {
	a, b := HydraID("https://app.example.com/client.json"), HydraID("https://app.example.com/client.json")
	if a != b || a == HydraID("https://app.example.com/client.json2") {
		t.Fatalf("HydraID is not a stable function of the URL: %q %q", a, b)
	}
	if strings.ContainsAny(a, "/:?#%") || !strings.HasPrefix(a, "cimd-") {
		t.Errorf("HydraID %q would not fit in Hydra's admin routes", a)
	}
	if TranslateClientID("9b0c4f5e-uuid") != "9b0c4f5e-uuid" || TranslateClientID("https://app.example.com/client.json") != a {
		t.Error("TranslateClientID changes the wrong ids")
	}
}

const docURL = "https://app.example.com/client.json"

func TestValidateDocument(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"minimal", `{"client_id":"` + docURL + `","redirect_uris":["http://127.0.0.1:3333/callback"]}`, ""},
		{"full", `{"client_id":"` + docURL + `","client_name":"App","client_uri":"https://app.example.com","redirect_uris":["https://app.example.com/cb"],` +
			`"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none","software_id":"x"}`, ""},
		{"not an object", `["x"]`, "not a JSON object"},
		{"other client_id", `{"client_id":"https://evil.example/client.json","redirect_uris":["https://app.example.com/cb"]}`, "must be the document's own URL"},
		{"client_id differs in case", `{"client_id":"https://APP.example.com/client.json","redirect_uris":["https://app.example.com/cb"]}`, "must be the document's own URL"},
		{"no client_id", `{"redirect_uris":["https://app.example.com/cb"]}`, "must be the document's own URL"},
		{"secret", `{"client_id":"` + docURL + `","client_secret":"s","redirect_uris":["https://app.example.com/cb"]}`, "must not carry secrets"},
		{"secret auth", `{"client_id":"` + docURL + `","token_endpoint_auth_method":"client_secret_basic","redirect_uris":["https://app.example.com/cb"]}`, "only none"},
		{"no redirect", `{"client_id":"` + docURL + `"}`, "redirect_uris is required"},
		{"http redirect", `{"client_id":"` + docURL + `","redirect_uris":["http://evil.example/cb"]}`, "non-loopback"},
		{"client_credentials", `{"client_id":"` + docURL + `","grant_types":["client_credentials"],"redirect_uris":["https://app.example.com/cb"]}`, "authorization_code"},
		{"wrong type", `{"client_id":"` + docURL + `","redirect_uris":"https://app.example.com/cb"}`, "wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ValidateDocument([]byte(tt.body), docURL)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateDocument = %v", err)
				}
				if m.TokenEndpointAuthMethod != "none" || !slices.Contains(m.GrantTypes, "refresh_token") {
					t.Errorf("defaults not applied: %+v", m)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(ce.Description, tt.wantErr) {
				t.Fatalf("ValidateDocument = %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
}

func TestHydraClientAndVerifiedHost(t *testing.T) {
	m, err := ValidateDocument([]byte(`{"client_id":"`+docURL+`","redirect_uris":["https://app.example.com/cb"]}`), docURL)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(docURL)
	cl := HydraClient(m, docURL, u, "http://localhost:8080/mcp")
	if cl.GetClientId() != HydraID(docURL) || cl.GetClientName() != "app.example.com" ||
		!slices.Equal(cl.Audience, []string{"http://localhost:8080/mcp"}) || !strings.Contains(cl.GetScope(), "offline_access") {
		t.Errorf("Hydra client = %+v", cl)
	}
	// Hydra hands metadata back as decoded JSON.
	cl.Metadata = map[string]any{"registered_via": registeredVia, "client_id_url": docURL}
	if got := VerifiedHost(&cl); got != "app.example.com" {
		t.Errorf("VerifiedHost = %q", got)
	}
	selfRegistered := hydra.OAuth2Client{ClientId: new("uuid"), Metadata: map[string]any{"registered_via": "dynamic_client_registration"}}
	if got := VerifiedHost(&selfRegistered); got != "" {
		t.Errorf("a self-registered client got verified host %q", got)
	}
	// A client carrying the marker under an id that is not the URL's is not believed.
	forged := cl
	forged.ClientId = new("other")
	if got := VerifiedHost(&forged); got != "" || VerifiedHost(nil) != "" {
		t.Errorf("forged client got verified host %q", got)
	}
}

func TestPublicAddress(t *testing.T) {
	tests := []struct {
		ip            string
		allowLoopback bool
		want          bool
	}{
		{"93.184.215.14", false, true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", false, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"::1", true, true},
		{"10.1.2.3", true, false},
		{"172.16.0.1", false, false},
		{"192.168.1.1", false, false},
		{"169.254.169.254", false, false}, // cloud metadata
		{"100.64.0.1", false, false},
		{"0.0.0.0", true, false},
		{"::", false, false},
		{"fe80::1", false, false},
		{"fd00::1", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"::ffff:127.0.0.1", false, false},
		{"64:ff9b::a00:1", false, false},
		{"2002:a00:1::", false, false},
		{"224.0.0.1", false, false},
		{"255.255.255.255", false, false},
	}
	for _, tt := range tests {
		if got := PublicAddress(netip.MustParseAddr(tt.ip), tt.allowLoopback); got != tt.want {
			t.Errorf("PublicAddress(%s, %t) = %t, want %t", tt.ip, tt.allowLoopback, got, tt.want)
		}
	}
}

func TestFreshness(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"nothing said", h(), DefaultFreshness},
		{"max-age", h("Cache-Control", "public, max-age=600"), 10 * time.Minute},
		{"s-maxage wins", h("Cache-Control", "max-age=600, s-maxage=60"), time.Minute},
		{"no-store", h("Cache-Control", "no-store, max-age=600"), 0},
		{"no-cache", h("Cache-Control", "no-cache"), 0},
		{"capped", h("Cache-Control", "max-age=31536000"), MaxFreshness},
		{"malformed", h("Cache-Control", "max-age=soon"), 0},
		{"age subtracted", h("Cache-Control", "max-age=600", "Age", "100"), 500 * time.Second},
		{"expires", h("Date", now.Format(http.TimeFormat), "Expires", now.Add(time.Hour).Format(http.TimeFormat)), time.Hour},
		{"expired", h("Expires", now.Add(-time.Hour).Format(http.TimeFormat)), 0},
		{"bad expires", h("Expires", "0"), 0},
		{"max-age beats expires", h("Cache-Control", "max-age=60", "Expires", now.Add(time.Hour).Format(http.TimeFormat)), time.Minute},
	}
	for _, tt := range tests {
		if got := Freshness(tt.h, now); got != tt.want {
			t.Errorf("%s: Freshness = %s, want %s", tt.name, got, tt.want)
		}
	}
}

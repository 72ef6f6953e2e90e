package consent

import (
	"net/url"
	"slices"
	"testing"

	hydra "github.com/ory/hydra-client-go/v2"
	"golang.org/x/text/language"

	"github.com/mcp-oauth/catalog/contract"
	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/register"
	"github.com/mcp-oauth/consent-app/internal/store"
)

const mcpURL = "http://localhost:8080/mcp"

func request(query string, grants ...string) *hydra.OAuth2ConsentRequest {
	u := "http://localhost:3000/oauth2/auth?client_id=c&code_challenge=x&code_challenge_method=S256" + query
	id := "c"
	return &hydra.OAuth2ConsentRequest{
		RequestUrl:     &u,
		RequestedScope: []string{"invoices:read", "openid", "accounting:write", "nonsense"},
		Client:         &hydra.OAuth2Client{ClientId: &id, GrantTypes: grants},
	}
}

func TestDecide(t *testing.T) {
	teams := []store.Team{{ID: "t-acme", Slug: "acme", Name: "Acme Corp"}, {ID: "t-globex", Slug: "globex", Name: "Globex"}}
	tests := []struct {
		name        string
		req         *hydra.OAuth2ConsentRequest
		team        string
		teams       []store.Team
		wantReject  string
		wantUserErr bool
		wantScopes  []string
		wantHydra   []string
	}{
		{"refreshing client gets offline_access unasked", request("", "authorization_code", "refresh_token"), "t-acme", teams, "", false,
			[]string{"invoices:read", "accounting:write"}, []string{"invoices:read", "accounting:write", "offline_access"}},
		{"code-only client gets no offline_access", request("", "authorization_code"), "t-globex", teams, "", false,
			[]string{"invoices:read", "accounting:write"}, []string{"invoices:read", "accounting:write"}},
		{"no team chosen", request(""), "", teams, "", true, nil, nil},
		{"team of someone else", request(""), "t-other", teams, "", true, nil, nil},
		{"user without teams", request(""), "t-acme", nil, "", true, nil, nil},
		{"foreign resource", request("&resource=https%3A%2F%2Fevil.example%2Fmcp"), "t-acme", teams, "invalid_target", false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, rej, userErr := Decide(tt.req, tt.team, tt.teams, mcpURL)
			if got := rejection(rej); got != tt.wantReject {
				t.Fatalf("rejection = %q, want %q", got, tt.wantReject)
			}
			if (userErr != "") != tt.wantUserErr {
				t.Fatalf("user error = %q, want one: %v", userErr, tt.wantUserErr)
			}
			if tt.wantReject != "" || tt.wantUserErr {
				return
			}
			if plan.Team.ID != tt.team {
				t.Errorf("team = %q", plan.Team.ID)
			}
			if !slices.Equal(plan.Scopes, tt.wantScopes) || !slices.Equal(plan.HydraScopes, tt.wantHydra) {
				t.Errorf("scopes = %v / %v, want %v / %v", plan.Scopes, plan.HydraScopes, tt.wantScopes, tt.wantHydra)
			}
			if !slices.Equal(plan.Audience, []string{mcpURL}) {
				t.Errorf("audience = %v", plan.Audience)
			}
		})
	}
}

func rejection(r *hydraadmin.Rejection) string {
	if r == nil {
		return ""
	}
	return r.Error
}

func TestVerified(t *testing.T) {
	marked := &hydra.OAuth2Client{Metadata: map[string]any{VerifiedMetadataKey: true}}
	tests := []struct {
		name   string
		client *hydra.OAuth2Client
		local  bool
		want   bool
	}{
		{"self-registered", &hydra.OAuth2Client{}, false, false},
		{"marked by an operator", marked, false, true},
		{"marked, but redirects to this computer", marked, true, false},
		{"metadata says \"true\" as a string", &hydra.OAuth2Client{Metadata: map[string]any{VerifiedMetadataKey: "true"}}, false, false},
		{"no client", nil, false, false},
	}
	for _, tt := range tests {
		if got := Verified(tt.client, tt.local); got != tt.want {
			t.Errorf("%s: Verified() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestScopeTexts: reads and writes apart, catalog order, labels in the
// page's language, and nothing outside the catalog.
func TestScopeTexts(t *testing.T) {
	cat, err := locale.New(locale.Options{})
	if err != nil {
		t.Fatal(err)
	}
	read, write := ScopeTexts(cat.Localizer(language.German), []string{"accounting:write", "openid", "admin:all", "accounting:read", "invoices:read"})
	names := func(ss []ScopeText) (out []string) {
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	if got := names(read); !slices.Equal(got, []string{"invoices:read", "accounting:read"}) {
		t.Errorf("read = %v", got)
	}
	if got := names(write); !slices.Equal(got, []string{"accounting:write"}) {
		t.Errorf("write = %v", got)
	}
	if read[0].Label != "Rechnungen und Angebote ansehen" || read[0].Description == "" {
		t.Errorf("read[0] = %+v, want the German label", read[0])
	}
	if r, w := ScopeTexts(cat.Localizer(language.English), []string{"openid", "profile"}); r != nil || w != nil {
		t.Errorf("unknown scopes only: %v %v, want nothing", r, w)
	}
}

// TestPublisher: a pinned client is named by its publisher only when the
// Hydra client mirrors that client's document URL; a client that registered
// itself as "Claude Code", or claims the document in metadata it could not
// have written, is not.
func TestPublisher(t *testing.T) {
	known, err := clientmeta.LoadKnown("")
	if err != nil {
		t.Fatal(err)
	}
	const claudeCode = "https://claude.ai/oauth/claude-code-client-metadata"
	mirror := clientmeta.HydraClient(register.Metadata{ClientName: "Claude Code", RedirectURIs: []string{"http://localhost/callback"}},
		claudeCode, &url.URL{Scheme: "https", Host: "claude.ai"}, "http://localhost:8080/mcp")
	name := "Claude Code"
	selfRegistered := hydra.OAuth2Client{ClientId: hydra.PtrString("0f9e"), ClientName: &name,
		Metadata: map[string]any{"registered_via": "dynamic_client_registration"}}
	forged := hydra.OAuth2Client{ClientId: hydra.PtrString("0f9e"), ClientName: &name,
		Metadata: map[string]any{"registered_via": "client_id_metadata_document", "client_id_url": claudeCode}}
	for _, tc := range []struct {
		name   string
		client *hydra.OAuth2Client
		want   string
	}{
		{"mirror of the pinned document", &mirror, "Anthropic"},
		{"self-registered under the same name", &selfRegistered, ""},
		{"metadata naming the document, another id", &forged, ""},
		{"no client", nil, ""},
	} {
		if got := publisher(known, tc.client); got != tc.want {
			t.Errorf("%s: publisher = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := publisher(nil, &mirror); got != "" {
		t.Errorf("no catalog: publisher = %q", got)
	}
	// The step-up claim follows the same rule.
	for _, tc := range []struct {
		name   string
		client *hydra.OAuth2Client
		want   string
	}{
		{"mirror of the pinned document", &mirror, contract.StepUpByLink},
		{"self-registered under the same name", &selfRegistered, ""},
		{"metadata naming the document, another id", &forged, ""},
	} {
		plan := Plan{Team: store.Team{ID: "t", Slug: "s"}, Scopes: []string{"invoices:read"}}
		claims := Claims(plan, "conn", "Claude Code", stepUp(known, tc.client))
		if got, has := claims[contract.ClaimStepUp]; tc.want == "" && has || tc.want != "" && got != tc.want {
			t.Errorf("%s: step_up claim %v (present %v), want %q", tc.name, got, has, tc.want)
		}
		if claims["team_id"] != "t" || claims["connection_id"] != "conn" {
			t.Errorf("%s: claims %v", tc.name, claims)
		}
	}
}

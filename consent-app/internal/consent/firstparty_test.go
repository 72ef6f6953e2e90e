package consent

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/store"
)

type fakeHydra struct {
	req      *hydra.OAuth2ConsentRequest
	accepted []hydraadmin.ConsentGrant
}

func (f *fakeHydra) ConsentRequest(context.Context, string) (*hydra.OAuth2ConsentRequest, error) {
	return f.req, nil
}

func (f *fakeHydra) AcceptConsent(_ context.Context, _ string, g hydraadmin.ConsentGrant) (string, error) {
	f.accepted = append(f.accepted, g)
	return "http://auth.test/oauth2/auth?consent_verifier=v", nil
}

func (f *fakeHydra) RejectConsent(context.Context, string, hydraadmin.Rejection) (string, error) {
	return "http://auth.test/rejected", nil
}

// noStore fails the test if the consent step touches the data.
type noStore struct{ t *testing.T }

func (s noStore) UserByID(context.Context, string) (store.User, error) {
	s.t.Error("read the user")
	return store.User{}, nil
}
func (s noStore) TeamsOfUser(context.Context, string) ([]store.Team, error) {
	s.t.Error("listed teams")
	return nil, nil
}

// The settings pages' own client is let through without a page: openid
// only, no audience, no team or connection claims — on GET and on a posted
// form alike.
func TestFirstPartyClientGetsOpenIDOnly(t *testing.T) {
	id := firstparty.ClientID
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			f := &fakeHydra{req: &hydra.OAuth2ConsentRequest{
				Challenge: "c", Subject: new("user-1"), Client: &hydra.OAuth2Client{ClientId: &id},
				RequestedScope: []string{"openid", "invoices:write"},
				RequestUrl:     new("http://auth.test/oauth2/auth?client_id=" + id + "&code_challenge=x&code_challenge_method=S256"),
			}}
			h := &Handler{Hydra: f, Store: noStore{t}, CSRF: csrf.New(strings.Repeat("s", 32), false),
				Locale: locale.MustNew(locale.Options{}), MCPResourceURL: "http://localhost:8080/mcp", Log: slog.New(slog.DiscardHandler)}
			r := gin.New()
			r.GET("/consent", h.Show)
			r.POST("/consent", h.Submit)
			var req *http.Request
			if method == http.MethodGet {
				req = httptest.NewRequest(method, "/consent?consent_challenge=c", nil)
			} else {
				// A valid form: the session cookie and its token.
				w := httptest.NewRecorder()
				tok := h.CSRF.Token(w, httptest.NewRequest(http.MethodGet, "/", nil), "consent:c")
				form := url.Values{"consent_challenge": {"c"}, "csrf_token": {tok}, "action": {"allow"}, "team_id": {"t1"}}
				req = httptest.NewRequest(method, "/consent", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(w.Result().Cookies()[0])
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != http.StatusFound || len(f.accepted) != 1 {
				t.Fatalf("status %d, %d acceptances", w.Code, len(f.accepted))
			}
			g := f.accepted[0]
			if len(g.Scopes) != 1 || g.Scopes[0] != "openid" || len(g.Audience) != 0 || len(g.AccessTokenClaims) != 0 {
				t.Errorf("granted %+v, want openid alone", g)
			}
		})
	}
}

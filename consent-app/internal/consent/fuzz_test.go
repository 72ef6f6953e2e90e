package consent

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/catalog"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/store"
)

// consentHydra serves one consent challenge, "ch", of user u1 and records
// what the handler answers.
type consentHydra struct {
	accepted []hydraadmin.ConsentGrant
	rejected []hydraadmin.Rejection
}

func (h *consentHydra) ConsentRequest(_ context.Context, challenge string) (*hydra.OAuth2ConsentRequest, error) {
	if challenge != "ch" {
		return nil, hydraadmin.ErrChallengeInvalid
	}
	req := request("&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb", "authorization_code", "refresh_token")
	req.Challenge, req.Subject = challenge, ptr("u1")
	req.RequestedScope = []string{"invoices:read", "accounting:write", "openid"}
	return req, nil
}

func (h *consentHydra) AcceptConsent(_ context.Context, _ string, g hydraadmin.ConsentGrant) (string, error) {
	h.accepted = append(h.accepted, g)
	return "http://localhost:3000/oauth2/auth?consent_verifier=v", nil
}

func (h *consentHydra) RejectConsent(_ context.Context, _ string, r hydraadmin.Rejection) (string, error) {
	h.rejected = append(h.rejected, r)
	return "http://127.0.0.1:9/cb?error=" + r.Error, nil
}

func ptr[T any](v T) *T { return &v }

// u1Store knows user u1, a member of Acme and Globex.
type u1Store struct{}

var u1Teams = []store.Team{{ID: "t-acme", Slug: "acme", Name: "Acme Corp"}, {ID: "t-globex", Slug: "globex", Name: "Globex"}}

func (u1Store) UserByID(_ context.Context, id string) (store.User, error) {
	return store.User{ID: id, Email: "u1@example.com"}, nil
}

func (u1Store) TeamsOfUser(context.Context, string) ([]store.Team, error) { return u1Teams, nil }

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// FuzzConsentForm posts the consent form with arbitrary fields and extra
// form content: the answer is never a server error, and Hydra is told of an
// approval exactly when the form carries its CSRF token, Allow and one of
// the user's teams — and then of that team, the catalog scopes and our
// audience only.
func FuzzConsentForm(f *testing.F) {
	f.Add("t-acme", "allow", "", true)
	f.Add("t-globex", "allow", "team_id=t-acme&action=deny", true)
	f.Add("t-other", "allow", "", true)
	f.Add("", "ALLOW", "", true)
	f.Add("t-acme", "deny", "", true)
	f.Add("t-acme", "allow", "consent_challenge=other&%zz", false)
	f.Add("' OR 1=1 --\x00", "allow\x00", strings.Repeat("a=b&", 100), true)
	gin.SetMode(gin.TestMode)
	cat, err := locale.New(locale.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, teamID, action, extra string, withToken bool) {
		fh := &consentHydra{}
		h := &Handler{Hydra: fh, Store: u1Store{}, CSRF: csrf.New(strings.Repeat("s", 32), false), Locale: cat,
			MCPResourceURL: mcpURL, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		r := gin.New()
		r.GET("/consent", h.Show)
		r.POST("/consent", h.Submit)

		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/consent?consent_challenge=ch", nil))
		m := csrfField.FindStringSubmatch(rec.Body.String())
		if rec.Code != http.StatusOK || m == nil {
			t.Fatalf("GET /consent: HTTP %d", rec.Code)
		}
		token := "forged"
		if withToken {
			token = m[1]
		}
		form := url.Values{"consent_challenge": {"ch"}, "csrf_token": {token}, "team_id": {teamID}, "action": {action}}
		req := httptest.NewRequest(http.MethodPost, "/consent", strings.NewReader(form.Encode()+"&"+extra))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range rec.Result().Cookies() {
			req.AddCookie(c)
		}
		rec = httptest.NewRecorder()
		r.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusFound, http.StatusBadRequest, http.StatusForbidden:
		default:
			t.Fatalf("HTTP %d for team %q, action %q, extra %q", rec.Code, teamID, action, extra)
		}
		mine := slices.ContainsFunc(u1Teams, func(t store.Team) bool { return t.ID == teamID })
		approve := withToken && action == "allow" && mine
		if got := len(fh.accepted) == 1; got != approve {
			t.Fatalf("team %q, action %q, token %v, extra %q: approved %v (HTTP %d)", teamID, action, withToken, extra, got, rec.Code)
		}
		if withToken && action != "allow" && len(fh.rejected) != 1 {
			t.Fatalf("action %q was not a denial", action)
		}
		if !approve {
			return
		}
		g := fh.accepted[0]
		if g.AccessTokenClaims["team_id"] != teamID || !slices.Equal(g.Audience, []string{mcpURL}) {
			t.Fatalf("approval of %q granted %+v", teamID, g)
		}
		for _, s := range g.Scopes {
			if _, known := catalog.Lookup(s); !known && s != catalog.OfflineAccess {
				t.Fatalf("granted %q, which is not in the catalog", s)
			}
		}
	})
}

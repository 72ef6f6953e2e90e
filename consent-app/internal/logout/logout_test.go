package logout

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/store"
)

type fakeHydra struct{ accepted, rejected int }

func (f *fakeHydra) LogoutRequest(_ context.Context, challenge string) (*hydra.OAuth2LogoutRequest, error) {
	if challenge != "ch" {
		return nil, hydraadmin.ErrChallengeInvalid
	}
	sub := "u-alice"
	return &hydra.OAuth2LogoutRequest{Subject: &sub}, nil
}

func (f *fakeHydra) AcceptLogout(context.Context, string) (string, error) {
	f.accepted++
	return "http://localhost:3000/oauth2/sessions/logout?logout_verifier=v", nil
}

func (f *fakeHydra) RejectLogout(context.Context, string) error { f.rejected++; return nil }

type fakeUsers struct{}

func (fakeUsers) UserByID(context.Context, string) (store.User, error) {
	return store.User{ID: "u-alice", Email: "alice@example.com"}, nil
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func TestLogout(t *testing.T) {
	gin.SetMode(gin.TestMode)
	cat, err := locale.New(locale.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, action     string
		withToken        bool
		wantStatus       int
		accepts, rejects int
	}{
		{"sign out", "logout", true, http.StatusFound, 1, 0},
		{"stay signed in", "stay", true, http.StatusOK, 0, 1},
		{"no CSRF token", "logout", false, http.StatusForbidden, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeHydra{}
			h := &Handler{Hydra: f, Users: fakeUsers{}, CSRF: csrf.New(strings.Repeat("s", 32), false), Locale: cat,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			r := gin.New()
			r.GET("/logout", h.Show)
			r.POST("/logout", h.Submit)

			page := httptest.NewRecorder()
			r.ServeHTTP(page, httptest.NewRequest("GET", "/logout?logout_challenge=ch", nil))
			m := csrfField.FindStringSubmatch(page.Body.String())
			if page.Code != http.StatusOK || m == nil || !strings.Contains(page.Body.String(), "alice@example.com") {
				t.Fatalf("confirmation page: %d\n%s", page.Code, page.Body)
			}
			form := url.Values{"logout_challenge": {"ch"}, "action": {tt.action}}
			if tt.withToken {
				form.Set("csrf_token", m[1])
			}
			post := httptest.NewRequest("POST", "/logout", strings.NewReader(form.Encode()))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, c := range page.Result().Cookies() {
				post.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, post)
			if rec.Code != tt.wantStatus || f.accepted != tt.accepts || f.rejected != tt.rejects {
				t.Errorf("POST: %d, accepted %d, rejected %d; want %d, %d, %d", rec.Code, f.accepted, f.rejected, tt.wantStatus, tt.accepts, tt.rejects)
			}
			if tt.action == "logout" && tt.withToken && len(rec.Result().Cookies()) != 1 {
				t.Errorf("sign-out did not renew the session cookie: %v", rec.Result().Cookies())
			}
		})
	}
}

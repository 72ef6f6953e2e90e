package csrf

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	p := New(strings.Repeat("s", 32), false)
	rec := httptest.NewRecorder()
	token := p.Token(rec, httptest.NewRequest("GET", "/login", nil), "login:abc")
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.Name != CookieName || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure {
		t.Fatalf("cookie = %+v", cookie)
	}

	post := func(c *http.Cookie, token string) *http.Request {
		r := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{FieldName: {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if c != nil {
			r.AddCookie(c)
		}
		return r
	}
	other := &http.Cookie{Name: CookieName, Value: strings.Repeat("x", 32)}
	tests := []struct {
		name    string
		req     *http.Request
		purpose string
		ok      bool
	}{
		{"valid", post(cookie, token), "login:abc", true},
		{"other purpose", post(cookie, token), "login:xyz", false},
		{"missing token", post(cookie, ""), "login:abc", false},
		{"no cookie", post(nil, token), "login:abc", false},
		{"other browser", post(other, token), "login:abc", false},
		{"garbage", post(cookie, "%%%"), "login:abc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Verify(tt.req, tt.purpose)
			if (err == nil) != tt.ok {
				t.Errorf("Verify() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestTokenReusesExistingCookie(t *testing.T) {
	p := New(strings.Repeat("s", 32), true)
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SecureCookieName, Value: strings.Repeat("n", 32)})
	rec := httptest.NewRecorder()
	p.Token(rec, r, "x")
	if len(rec.Result().Cookies()) != 0 {
		t.Error("a new nonce was set although the browser had one")
	}
}

func TestSecureCookie(t *testing.T) {
	rec := httptest.NewRecorder()
	New(strings.Repeat("s", 32), true).Token(rec, httptest.NewRequest("GET", "/", nil), "x")
	c := rec.Result().Cookies()[0]
	if c.Name != SecureCookieName || !c.Secure || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie on an https origin = %+v", c)
	}
}

// TestRenewInvalidatesOldTokens: after sign-in the session identifier
// changes, and a token bound to the old one no longer validates.
func TestRenewInvalidatesOldTokens(t *testing.T) {
	p := New(strings.Repeat("s", 32), false)
	old := &http.Cookie{Name: CookieName, Value: strings.Repeat("o", 26)}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(old)
	oldToken := p.Token(httptest.NewRecorder(), r, "consent:c")

	rec := httptest.NewRecorder()
	fresh := p.Renew(rec)
	set := rec.Result().Cookies()
	if len(set) != 1 || set[0].Value != fresh || fresh == old.Value || len(fresh) < minSessionLen {
		t.Fatalf("Renew set %v, returned %q", set, fresh)
	}
	post := httptest.NewRequest("POST", "/consent", strings.NewReader(url.Values{FieldName: {oldToken}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(set[0])
	if err := p.Verify(post, "consent:c"); err == nil {
		t.Error("a token of the old session validated with the new one")
	}
}

package login

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzLoginForm posts the sign-in form with arbitrary fields and extra form
// content: the answer is never a server error, and Hydra hears of a
// sign-in exactly when the form carries its CSRF token and alice's address
// and password.
func FuzzLoginForm(f *testing.F) {
	f.Add("alice@example.com", "right password", "true", "", true)
	f.Add(" ALICE@example.com\t", "right password", "", "email=bob%40example.com&password=x", true)
	f.Add("alice@example.com", "right password", "on", "", false)
	f.Add("alice@example.com\x00", "right password", "", "csrf_token=x", true)
	f.Add("\u0430lice@example.com", "right password\x00", "", "%zz&login_challenge=other", true)
	f.Add("' OR 1=1 --", strings.Repeat("p", 2000), "", "remember=true&remember=false", true)
	f.Fuzz(func(t *testing.T, email, password, remember, extra string, withToken bool) {
		fx := newFixtureWith(t, Limits{}, pickyUsers{fakeUsers{"alice@example.com": {ID: "u-alice", Email: "alice@example.com", PasswordHash: aliceHash}}})
		b := &browser{addr: "192.0.2.1"}
		page := fx.do(b, httptest.NewRequest(http.MethodGet, "/login?login_challenge=ch", nil))
		token := "forged"
		if m := csrfField.FindStringSubmatch(page.Body.String()); withToken && m != nil {
			token = m[1]
		}
		form := url.Values{"login_challenge": {"ch"}, "csrf_token": {token}, "email": {email}, "password": {password}, "remember": {remember}}
		r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()+"&"+extra))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := fx.do(b, r)

		switch rec.Code {
		case http.StatusFound, http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest:
		default:
			t.Fatalf("HTTP %d for email %q, password of %d bytes, extra %q", rec.Code, email, len(password), extra)
		}
		right := withToken && strings.EqualFold(strings.TrimSpace(email), "alice@example.com") && password == "right password"
		if signedIn := len(fx.hydra.accepted) == 1; signedIn != right {
			t.Fatalf("email %q, password %q, token %v, extra %q: signed in %v, HTTP %d", email, password, withToken, extra, signedIn, rec.Code)
		}
		if right && fx.hydra.accepted[0].Remember != (remember == "true") {
			t.Fatalf("remember=%q: Hydra was told remember=%v", remember, fx.hydra.accepted[0].Remember)
		}
	})
}

package csrf

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzVerify posts arbitrary forms with arbitrary session cookies: a form
// passes only with the token of its own session and purpose, and the right
// token passes whatever else the form holds.
func FuzzVerify(f *testing.F) {
	p := New(strings.Repeat("s", 32), false)
	session := strings.Repeat("A", minSessionLen)
	f.Add(session, "login:abc", "email=a%40b&password=x", true)
	f.Add(session, "consent:abc", "csrf_token=%%%&team_id=1", false)
	f.Add("short", "login:", "csrf_token=", true)
	f.Add(session+"\x00", "login:\x00", "csrf_token=a&csrf_token=b", false)
	f.Fuzz(func(t *testing.T, session, purpose, form string, withToken bool) {
		good := p.sign(session, purpose)
		body := form
		if withToken {
			// The real token first: a later duplicate must not matter.
			body = url.Values{FieldName: {good}}.Encode() + "&" + form
		}
		r := httptest.NewRequest(http.MethodPost, "/form", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Cookie", CookieName+"="+session)
		err := p.Verify(r, purpose)

		c, cerr := r.Cookie(CookieName)
		sessionOK := cerr == nil && c.Value == session && len(session) >= minSessionLen
		if withToken && sessionOK && err != nil {
			t.Fatalf("the right token failed: session %q, purpose %q, form %q: %v", session, purpose, form, err)
		}
		if err != nil {
			return
		}
		posted, derr := base64.RawURLEncoding.DecodeString(r.PostFormValue(FieldName))
		want, _ := base64.RawURLEncoding.DecodeString(good)
		if !sessionOK || derr != nil || !bytes.Equal(posted, want) {
			t.Fatalf("passed without its session's token: session %q, purpose %q, body %q", session, purpose, body)
		}
	})
}

package settings

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-oauth/consent-app/internal/appcookie"
)

// sealer signs cookie values, so that the browser can hold them but not
// forge or alter them. The values are not secret: a user id, an expiry, the
// state of a sign-in in progress.
type sealer struct{ key []byte }

// newSealer derives the cookie key from the app's cookie secret, apart from
// its other uses.
func newSealer(cookieSecret string) sealer {
	return sealer{key: appcookie.Key(cookieSecret, "settings cookies")}
}

// seal joins kind, the fields and the expiry, and signs them. Fields must not
// contain NUL.
func (s sealer) seal(kind string, expires time.Time, fields ...string) string {
	parts := append([]string{kind, strconv.FormatInt(expires.Unix(), 10)}, fields...)
	body := base64.RawURLEncoding.EncodeToString([]byte(strings.Join(parts, "\x00")))
	return body + "." + s.sign(body)
}

// open returns the fields of a value sealed as kind that has not expired.
func (s sealer) open(kind, value string, now time.Time) ([]string, bool) {
	body, mac, ok := strings.Cut(value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.sign(body))) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, false
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) < 2 || parts[0] != kind {
		return nil, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !now.Before(time.Unix(exp, 0)) {
		return nil, false
	}
	return parts[2:], true
}

func (s sealer) sign(body string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// cookies names and sets the settings pages' cookies (appcookie.Set).
type cookies struct{ secure bool }

const (
	sessionCookie = "settings"      // who is signed in to the settings pages
	signInCookie  = "settings_auth" // a sign-in in progress: state, nonce, PKCE verifier
)

func (c cookies) set(w http.ResponseWriter, base, value string, maxAge time.Duration) {
	appcookie.Set(w, base, value, int(maxAge.Seconds()), c.secure)
}

func (c cookies) clear(w http.ResponseWriter, base string) {
	appcookie.Set(w, base, "", -1, c.secure)
}

func (c cookies) get(r *http.Request, base string) string {
	ck, err := r.Cookie(appcookie.Name(base, c.secure))
	if err != nil {
		return ""
	}
	return ck.Value
}

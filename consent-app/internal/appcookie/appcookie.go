// Package appcookie is the one place the auth origin names and sets its
// cookies (the CSRF session, the language choice, the settings pages'
// cookies) and derives keys from COOKIE_SECRET.
package appcookie

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
)

// HostPrefix is the prefix of every cookie name on an https origin. Browsers
// accept it only with Secure, Path=/ and no Domain: no other host can set or
// shadow the cookie.
const HostPrefix = "__Host-"

// Name is the name of cookie base: base on a plain-HTTP origin, and with
// HostPrefix on https (secure).
func Name(base string, secure bool) string {
	if secure {
		return HostPrefix + base
	}
	return base
}

// Set sets cookie base for the whole origin: HttpOnly, SameSite=Lax (flows
// come back by top-level redirects), and on https Secure under HostPrefix.
// maxAge is in seconds, as http.Cookie's: 0 lasts the browser session, a
// negative one deletes the cookie.
func Set(w http.ResponseWriter, base, value string, maxAge int, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: Name(base, secure), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
}

// Key derives the key for one use of the app's cookie secret
// (COOKIE_SECRET): HMAC-SHA256 of purpose under the secret. Each use has its
// own purpose, so no value made for one use is valid for another.
func Key(cookieSecret, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(cookieSecret))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

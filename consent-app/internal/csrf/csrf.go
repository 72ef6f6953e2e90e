// Package csrf keeps the browser's session identifier and issues and checks
// the tokens that protect every form.
//
// A browser gets a random session identifier in an HttpOnly, SameSite=Lax
// cookie; each form carries HMAC(secret, session, purpose), where purpose
// binds the token to one flow step (for example "login:" + the login
// challenge). A forged cross-site post has neither the cookie's value nor the
// secret, and a token lifted from one challenge does not validate for another.
// Renew replaces the identifier after sign-in, so one planted before sign-in
// (session fixation) is worth nothing after it. Who is signed in is Hydra's
// to remember, not this cookie's.
package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/mcp-oauth/consent-app/internal/appcookie"
)

// CookieName is the cookie that holds the session identifier on a plain-HTTP
// origin; on https it is SecureCookieName.
const CookieName = "session"

// SecureCookieName carries the __Host- prefix (appcookie.Name).
const SecureCookieName = appcookie.HostPrefix + CookieName

// minSessionLen is the length of rand.Text (128 bits): shorter cookie values
// were not made here.
const minSessionLen = 26

// FieldName is the form field that carries the token.
const FieldName = "csrf_token"

// ErrInvalid means the token is missing or does not match.
var ErrInvalid = errors.New("the form's security token is missing or expired; reload the page and try again")

// Protector issues and verifies tokens.
type Protector struct {
	secret []byte
	secure bool
}

// New returns a Protector keyed by the app's cookie secret. secure sets the
// cookie's Secure flag and name prefix (https origins).
func New(cookieSecret string, secure bool) *Protector {
	return &Protector{secret: appcookie.Key(cookieSecret, "csrf tokens"), secure: secure}
}

func (p *Protector) cookieName() string { return appcookie.Name(CookieName, p.secure) }

// Token returns the token for purpose, starting a session if the browser has
// none yet.
func (p *Protector) Token(w http.ResponseWriter, r *http.Request, purpose string) string {
	if c, err := r.Cookie(p.cookieName()); err == nil && len(c.Value) >= minSessionLen {
		return p.sign(c.Value, purpose)
	}
	return p.sign(p.Renew(w), purpose)
}

// Renew sets a fresh session identifier and returns it. Tokens issued for
// the old one stop validating.
func (p *Protector) Renew(w http.ResponseWriter) string {
	session := rand.Text()
	appcookie.Set(w, CookieName, session, 0, p.secure)
	return session
}

// Verify checks the token posted for purpose.
func (p *Protector) Verify(r *http.Request, purpose string) error {
	c, err := r.Cookie(p.cookieName())
	if err != nil || len(c.Value) < minSessionLen {
		return ErrInvalid
	}
	got, err := base64.RawURLEncoding.DecodeString(r.PostFormValue(FieldName))
	if err != nil {
		return ErrInvalid
	}
	want, _ := base64.RawURLEncoding.DecodeString(p.sign(c.Value, purpose))
	if !hmac.Equal(got, want) {
		return ErrInvalid
	}
	return nil
}

func (p *Protector) sign(session, purpose string) string {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte(session))
	m.Write([]byte{0})
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

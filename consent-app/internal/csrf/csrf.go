// Package csrf issues and checks the tokens that protect every form.
//
// A browser gets a random nonce in an HttpOnly cookie; each form carries
// HMAC(secret, nonce, purpose), where purpose binds the token to one flow step
// (for example the login challenge). A forged cross-site post has neither the
// cookie's value nor the secret, and a token lifted from one challenge does not
// validate for another.
package csrf

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
)

// CookieName is the cookie that holds the browser's nonce.
const CookieName = "csrf_nonce"

// minNonceLen is the length of rand.Text (128 bits).
const minNonceLen = 26

// FieldName is the form field that carries the token.
const FieldName = "csrf_token"

// ErrInvalid means the token is missing or does not match.
var ErrInvalid = errors.New("the form's security token is missing or expired; reload the page and try again")

// Protector issues and verifies tokens.
type Protector struct {
	secret []byte
	secure bool
}

// New returns a Protector. secure sets the cookie's Secure flag (https origins).
func New(secret string, secure bool) *Protector {
	return &Protector{secret: []byte(secret), secure: secure}
}

// Token returns the token for purpose, setting the nonce cookie if the
// browser has none yet.
func (p *Protector) Token(w http.ResponseWriter, r *http.Request, purpose string) string {
	nonce := ""
	if c, err := r.Cookie(CookieName); err == nil && len(c.Value) >= minNonceLen {
		nonce = c.Value
	} else {
		nonce = rand.Text()
		http.SetCookie(w, &http.Cookie{
			Name: CookieName, Value: nonce, Path: "/",
			HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode,
		})
	}
	return p.sign(nonce, purpose)
}

// Verify checks the token posted for purpose.
func (p *Protector) Verify(r *http.Request, purpose string) error {
	c, err := r.Cookie(CookieName)
	if err != nil || len(c.Value) < minNonceLen {
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

func (p *Protector) sign(nonce, purpose string) string {
	m := hmac.New(sha256.New, p.secret)
	m.Write([]byte(nonce))
	m.Write([]byte{0})
	m.Write([]byte(purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

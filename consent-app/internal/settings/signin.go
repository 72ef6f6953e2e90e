package settings

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/loopback"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// SessionTTL is how long a settings sign-in lasts. Short: Hydra's own
// session (kept for 30 days with "keep me signed in") signs the person in
// again without a password when it runs out.
const SessionTTL = time.Hour

// signInTTL bounds the time from leaving for the sign-in page to coming back.
const signInTTL = 10 * time.Minute

// SignInConfig is what the settings pages' OpenID Connect client needs.
type SignInConfig struct {
	// PublicURL is the auth origin: the issuer, where the browser signs in.
	PublicURL string
	// HydraPublicURL is Hydra's public listener, where the app exchanges the
	// code and fetches the signing keys itself.
	HydraPublicURL string
	// ClientSecret is the first-party client's (firstparty.Secret).
	ClientSecret string
}

// signIn is the settings pages' OpenID Connect client: code flow with PKCE
// (S256), state and nonce, the ID token verified by go-oidc against Hydra's
// keys, issuer and this client as audience.
type signIn struct {
	issuer   string
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	http     *http.Client
}

func newSignIn(cfg SignInConfig) *signIn {
	issuer, _ := url.Parse(cfg.PublicURL)
	hydraPublic := strings.TrimSuffix(cfg.HydraPublicURL, "/")
	client := &http.Client{Timeout: 10 * time.Second, Transport: asIssuer{issuer: issuer, next: http.DefaultTransport}}
	ctx := oidc.ClientContext(context.Background(), client)
	provider := (&oidc.ProviderConfig{
		IssuerURL: cfg.PublicURL,
		AuthURL:   cfg.PublicURL + "/oauth2/auth",
		TokenURL:  hydraPublic + "/oauth2/token",
		JWKSURL:   hydraPublic + "/.well-known/jwks.json",
	}).NewProvider(ctx)
	return &signIn{
		issuer: cfg.PublicURL,
		oauth: oauth2.Config{
			ClientID:     firstparty.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: provider.Endpoint().AuthURL, TokenURL: provider.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
			// Hydra's form: the code is exchanged at Hydra directly, not
			// through the edge, which translates it for everyone else.
			RedirectURL: loopback.HydraForm(cfg.PublicURL + firstparty.CallbackPath),
			Scopes:      []string{firstparty.Scope},
		},
		verifier: provider.VerifierContext(ctx, &oidc.Config{ClientID: firstparty.ClientID}),
		http:     client,
	}
}

// asIssuer sends the app's own calls to Hydra's public listener as the
// edge proxy sends the browsers' (package edge): under the issuer's host and
// scheme, which Hydra uses for the URLs it builds and to tell TLS was
// terminated in front of it.
type asIssuer struct {
	issuer *url.URL
	next   http.RoundTripper
}

func (t asIssuer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = t.issuer.Host
	r.Header.Set("X-Forwarded-Proto", t.issuer.Scheme)
	return t.next.RoundTrip(r)
}

// Login handles GET /settings/login: it starts a sign-in through Hydra and
// comes back to the settings page asked for in next.
func (h *Handler) Login(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if _, ok := h.sessionUser(c); ok {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	h.cookies.set(c.Writer, signInCookie, h.sealer.seal("signin", h.now().Add(signInTTL), state, nonce, verifier, next), signInTTL)
	l := h.Locale.For(c.Writer, c.Request, "")
	c.Redirect(http.StatusSeeOther, h.signIn.oauth.AuthCodeURL(state,
		oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce), oauth2.SetAuthURLParam("ui_locales", l.Lang())))
}

// signInExpired is the page for a sign-in that cannot be finished: its
// cookie or state is gone, altered or from another issuer. Starting again
// from the settings page mends it.
var signInExpired = web.Problem{Status: http.StatusBadRequest, TitleID: "settings.signin.failed.title", TextID: "settings.signin.expired"}

// Callback handles GET /settings/callback, where Hydra sends the browser
// back with a code.
func (h *Handler) Callback(c *gin.Context) {
	l := h.Locale.For(c.Writer, c.Request, "")
	fields, ok := h.sealer.open("signin", h.cookies.get(c.Request, signInCookie), h.now())
	h.cookies.clear(c.Writer, signInCookie)
	if !ok || len(fields) != 4 {
		web.Error(c.Writer, c.Request, l, signInExpired)
		return
	}
	state, nonce, verifier, next := fields[0], fields[1], fields[2], fields[3]
	q := c.Request.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		web.Error(c.Writer, c.Request, l, signInExpired)
		return
	}
	if e := q.Get("error"); e != "" {
		web.Error(c.Writer, c.Request, l, web.Problem{Status: http.StatusBadRequest, TitleID: "settings.signin.failed.title", TextID: "settings.signin.refused", Detail: q.Get("error_description")})
		return
	}
	// RFC 9207: the edge adds iss to every authorization response.
	if iss := q.Get("iss"); iss != "" && iss != h.signIn.issuer {
		web.Error(c.Writer, c.Request, l, signInExpired)
		return
	}
	userID, err := h.signIn.finish(c, q.Get("code"), verifier, nonce)
	var refused *oauth2.RetrieveError
	switch {
	case errors.As(err, &refused) && refused.Response != nil && refused.Response.StatusCode >= 500:
		h.Log.ErrorContext(c, "settings sign-in: Hydra's token endpoint failed", "status", refused.Response.StatusCode)
		web.Error(c.Writer, c.Request, l, web.Unavailable)
		return
	case errors.As(err, &refused) || errors.Is(err, errBadIDToken):
		h.Log.WarnContext(c, "settings sign-in refused", "err", err)
		web.Error(c.Writer, c.Request, l, signInExpired)
		return
	case err != nil:
		h.Log.ErrorContext(c, "settings sign-in: token exchange", "err", err)
		web.Error(c.Writer, c.Request, l, web.Unavailable)
		return
	}
	h.startSession(c.Writer, userID)
	h.Log.InfoContext(c, "signed in to settings", "user_id", userID)
	c.Redirect(http.StatusSeeOther, next)
}

// errBadIDToken means the ID token did not verify.
var errBadIDToken = errors.New("settings: ID token does not verify")

// finish exchanges the code and verifies the ID token, returning its
// subject: the user id.
func (s *signIn) finish(ctx context.Context, code, verifier, nonce string) (string, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.http)
	tok, err := s.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", err
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", errors.Join(errBadIDToken, errors.New("no id_token in the token response"))
	}
	idt, err := s.verifier.Verify(ctx, raw)
	if err != nil {
		return "", errors.Join(errBadIDToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return "", errors.Join(errBadIDToken, errors.New("nonce mismatch"))
	}
	if idt.Subject == "" {
		return "", errors.Join(errBadIDToken, errors.New("no subject"))
	}
	return idt.Subject, nil
}

// SignOut handles POST /settings/signout: the settings session ends here,
// then Hydra's logout asks whether to end the sign-in on this device too.
func (h *Handler) SignOut(c *gin.Context) {
	v, ok := h.viewer(c)
	if !ok || !h.checkForm(c, v, purposeSignOut) {
		return
	}
	h.cookies.clear(c.Writer, sessionCookie)
	c.Redirect(http.StatusSeeOther, "/oauth2/sessions/logout")
}

func (h *Handler) startSession(w http.ResponseWriter, userID string) {
	h.cookies.set(w, sessionCookie, h.sealer.seal("session", h.now().Add(SessionTTL), userID), SessionTTL)
	// A fresh form session too: one planted before sign-in is void.
	h.CSRF.Renew(w)
}

// sessionUser returns the signed-in user's id.
func (h *Handler) sessionUser(c *gin.Context) (string, bool) {
	fields, ok := h.sealer.open("session", h.cookies.get(c.Request, sessionCookie), h.now())
	if !ok || len(fields) != 1 {
		return "", false
	}
	return fields[0], true
}

// safeNext keeps a return path only if it is a settings page of this
// origin; anything else (another host, a scheme, "//x", "/\x") becomes the
// settings home, so the sign-in never redirects elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" || u.User != nil || strings.ContainsAny(next, "\\\x00") ||
		strings.HasPrefix(next, "//") || path.Clean(u.Path) != u.Path || (u.Path != Home && !strings.HasPrefix(u.Path, Home+"/")) {
		return Home
	}
	return u.RequestURI()
}

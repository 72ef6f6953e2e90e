// Package login is the sign-in step of Hydra's login flow: it shows the
// sign-in form for a login challenge, checks the password, throttles
// guessing, and tells Hydra who signed in and whether to remember them.
package login

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/authorize"
	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/password"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// RememberFor is how long "keep me signed in" lasts: as long as a refresh
// token lives, so a person who stays signed in is not asked again sooner
// than their apps are.
const RememberFor = 30 * 24 * time.Hour

// maxEmailLength is the longest address we look up (RFC 5321's path limit).
const maxEmailLength = 254

// Users finds accounts by email.
type Users interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
}

// Hydra is the part of Hydra's admin API the sign-in step uses.
type Hydra interface {
	LoginRequest(ctx context.Context, challenge string) (*hydra.OAuth2LoginRequest, error)
	AcceptLogin(ctx context.Context, challenge string, a hydraadmin.LoginAcceptance) (string, error)
	RejectLogin(ctx context.Context, challenge string, r hydraadmin.Rejection) (string, error)
}

// Handler serves GET and POST /login.
type Handler struct {
	Hydra          Hydra
	Users          Users
	CSRF           *csrf.Protector
	Locale         *locale.Catalog
	Throttle       *Throttle
	MCPResourceURL string
	Log            *slog.Logger
}

// Page is the data of login.html.
type Page struct {
	Challenge  string
	CSRFToken  string
	ClientName string
	// Settings marks a sign-in to the settings pages rather than an app's
	// connection.
	Settings bool
	Email    string
	Remember bool
	// Error is the translated message above the form; Invalid marks the
	// fields as wrong (not so for the throttle, where they may be right).
	Error   string
	Invalid bool
}

// errBadCredentials stands for an unknown address and a wrong password
// alike: both get the same message, status and (about the same) time, so the
// form does not reveal who has an account.
var errBadCredentials = errors.New("login: bad credentials")

// Next is what to do with a login request before anyone types a password.
type Next int

const (
	ShowForm  Next = iota // ask for email and password
	AcceptNow             // Hydra already knows the user
	Reject                // refuse the authorization request
)

func (n Next) String() string {
	switch n {
	case AcceptNow:
		return "accept"
	case Reject:
		return "reject"
	}
	return "show form"
}

// Decide is the pure decision for a fresh login request: refuse requests we
// will never serve (no S256 PKCE, a foreign resource) before the user signs
// in, skip the form when Hydra remembers the user.
func Decide(req *hydra.OAuth2LoginRequest, mcpURL string) (Next, *hydraadmin.Rejection) {
	ar, err := authorize.Parse(req.RequestUrl)
	if err != nil {
		return Reject, &hydraadmin.Rejection{Error: "invalid_request", Description: "The authorization request could not be read."}
	}
	if rej := authorize.Check(ar, mcpURL); rej != nil {
		return Reject, rej
	}
	if req.Skip {
		return AcceptNow, nil
	}
	return ShowForm, nil
}

// Show handles GET /login?login_challenge=….
func (h *Handler) Show(c *gin.Context) {
	challenge := c.Query("login_challenge")
	req, l, ok := h.loginRequest(c, challenge)
	if !ok {
		return
	}
	next, rej := Decide(req, h.MCPResourceURL)
	h.Log.DebugContext(c, "login request", "client_id", req.Client.GetClientId(), "skip", req.Skip, "next", next.String())
	switch next {
	case Reject:
		redirect, err := h.Hydra.RejectLogin(c, challenge, *rej)
		h.redirect(c, l, redirect, err)
	case AcceptNow:
		// Hydra's own session is in use; it must not be extended here.
		redirect, err := h.Hydra.AcceptLogin(c, challenge, hydraadmin.LoginAcceptance{Subject: req.Subject})
		h.redirect(c, l, redirect, err)
	default:
		h.form(c, l, http.StatusOK, req, Page{})
	}
}

// Submit handles POST /login.
func (h *Handler) Submit(c *gin.Context) {
	challenge := c.PostForm("login_challenge")
	if err := h.CSRF.Verify(c.Request, "login:"+challenge); err != nil {
		web.Error(c.Writer, c.Request, h.Locale.For(c.Writer, c.Request, ""), web.BadForm)
		return
	}
	req, l, ok := h.loginRequest(c, challenge)
	if !ok {
		return
	}
	if next, rej := Decide(req, h.MCPResourceURL); next == Reject {
		redirect, err := h.Hydra.RejectLogin(c, challenge, *rej)
		h.redirect(c, l, redirect, err)
		return
	}
	email, pw := strings.TrimSpace(c.PostForm("email")), c.PostForm("password")
	page := Page{Email: email, Remember: c.PostForm("remember") == "true"}
	account, address := accountKey(email), addressKey(c.ClientIP())

	if wait := h.Throttle.Wait(account, address); wait > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		page.Error = l.N("login.error.throttled", int(math.Ceil(wait.Minutes())))
		h.Log.WarnContext(c, "sign-in throttled", "client_id", req.Client.GetClientId(), "retry_after_s", int(math.Ceil(wait.Seconds())))
		h.form(c, l, http.StatusTooManyRequests, req, page)
		return
	}
	user, err := h.authenticate(c, email, pw)
	switch {
	case errors.Is(err, errBadCredentials):
		h.Throttle.Fail(account, address)
		page.Error, page.Invalid = l.T("login.error.credentials"), true
		h.form(c, l, http.StatusUnauthorized, req, page)
		return
	case err != nil:
		h.Log.ErrorContext(c, "look up user", "err", err)
		web.Error(c.Writer, c.Request, l, web.Unavailable)
		return
	}
	h.Throttle.Succeed(account)
	redirect, err := h.Hydra.AcceptLogin(c, challenge, hydraadmin.LoginAcceptance{
		Subject: user.ID, Remember: page.Remember, RememberFor: RememberFor,
	})
	if err == nil {
		// A fresh session identifier: one planted before sign-in is void.
		h.CSRF.Renew(c.Writer)
		h.Log.InfoContext(c, "signed in", "user_id", user.ID, "client_id", req.Client.GetClientId(), "remember", page.Remember)
	}
	h.redirect(c, l, redirect, err)
}

// authenticate returns the user whose password pw is, errBadCredentials
// when there is none, or a lookup failure.
func (h *Handler) authenticate(ctx context.Context, email, pw string) (store.User, error) {
	// No account has an address the database could not even compare (a
	// NUL, invalid UTF-8) or one with control characters: such input is a
	// wrong address, not an outage.
	if email == "" || len(email) > maxEmailLength || !utf8.ValidString(email) || strings.ContainsFunc(email, unicode.IsControl) {
		password.VerifyNobody(pw)
		return store.User{}, errBadCredentials
	}
	user, err := h.Users.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		password.VerifyNobody(pw)
		return store.User{}, errBadCredentials
	case err != nil:
		return store.User{}, err
	}
	match, err := password.Verify(pw, user.PasswordHash)
	if err != nil {
		h.Log.ErrorContext(ctx, "stored password hash is unreadable", "user_id", user.ID, "err", err)
	}
	if !match {
		return store.User{}, errBadCredentials
	}
	return user, nil
}

// loginRequest fetches the login request and picks the page language, with
// the request's ui_locales once it is known.
func (h *Handler) loginRequest(c *gin.Context, challenge string) (*hydra.OAuth2LoginRequest, *locale.Localizer, bool) {
	if challenge == "" {
		web.Error(c.Writer, c.Request, h.Locale.For(c.Writer, c.Request, ""), web.BadLink)
		return nil, nil, false
	}
	req, err := h.Hydra.LoginRequest(c, challenge)
	if err != nil {
		web.HydraError(c.Writer, c.Request, h.Locale.For(c.Writer, c.Request, ""), h.Log, err)
		return nil, nil, false
	}
	ar, _ := authorize.Parse(req.RequestUrl)
	return req, h.Locale.For(c.Writer, c.Request, ar.UILocales), true
}

func (h *Handler) form(c *gin.Context, l *locale.Localizer, status int, req *hydra.OAuth2LoginRequest, p Page) {
	p.Challenge = req.Challenge
	p.CSRFToken = h.CSRF.Token(c.Writer, c.Request, "login:"+req.Challenge)
	p.Settings = firstparty.Is(req.Client.GetClientId())
	p.ClientName = clientmeta.DisplayName(&req.Client)
	self := "/login?login_challenge=" + url.QueryEscape(req.Challenge)
	web.Render(c.Writer, status, "login.html", web.NewView(l, self, "login.title", p))
}

func (h *Handler) redirect(c *gin.Context, l *locale.Localizer, to string, err error) {
	if err != nil {
		web.HydraError(c.Writer, c.Request, l, h.Log, err)
		return
	}
	// Hydra's redirect targets are its own URLs or the client's registered,
	// exactly matched redirect URI; no user input reaches them.
	c.Redirect(http.StatusFound, to)
}

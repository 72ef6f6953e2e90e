// Package login is the sign-in step of Hydra's login flow: it shows the
// sign-in form for a login challenge, checks the password and tells Hydra who
// signed in.
package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/authorize"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/password"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// Users finds accounts by email.
type Users interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
}

// Handler serves GET and POST /login.
type Handler struct {
	Hydra          hydraadmin.Admin
	Users          Users
	CSRF           *csrf.Protector
	MCPResourceURL string
	Log            *slog.Logger
}

// Page is the data of login.html.
type Page struct {
	Challenge  string
	CSRFToken  string
	ClientName string
	Email      string
	Error      string
}

// errBadCredentials is shown for an unknown address and a wrong password
// alike, so the form does not reveal who has an account.
const errBadCredentials = "The email address or password is incorrect."

// Next is what to do with a login request before anyone types a password.
type Next int

const (
	ShowForm  Next = iota // ask for email and password
	AcceptNow             // Hydra already knows the user
	Reject                // refuse the authorization request
)

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
	req, ok := h.loginRequest(c, challenge)
	if !ok {
		return
	}
	next, rej := Decide(req, h.MCPResourceURL)
	switch next {
	case Reject:
		redirect, err := h.Hydra.RejectLogin(c, challenge, *rej)
		h.redirect(c, redirect, err)
	case AcceptNow:
		redirect, err := h.Hydra.AcceptLogin(c, challenge, req.Subject)
		h.redirect(c, redirect, err)
	default:
		h.form(c, http.StatusOK, req, "", "")
	}
}

// Submit handles POST /login.
func (h *Handler) Submit(c *gin.Context) {
	challenge := c.PostForm("login_challenge")
	if err := h.CSRF.Verify(c.Request, "login:"+challenge); err != nil {
		web.Error(c.Writer, http.StatusForbidden, "Security check failed", err.Error())
		return
	}
	req, ok := h.loginRequest(c, challenge)
	if !ok {
		return
	}
	if next, rej := Decide(req, h.MCPResourceURL); next == Reject {
		redirect, err := h.Hydra.RejectLogin(c, challenge, *rej)
		h.redirect(c, redirect, err)
		return
	}
	email, pw := c.PostForm("email"), c.PostForm("password")
	user, err := h.Users.UserByEmail(c, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		password.VerifyNobody(pw)
		h.form(c, http.StatusUnauthorized, req, email, errBadCredentials)
		return
	case err != nil:
		h.Log.Error("look up user", "err", err)
		web.Error(c.Writer, http.StatusServiceUnavailable, "Sign-in is unavailable", "Please try again in a moment.")
		return
	}
	match, err := password.Verify(pw, user.PasswordHash)
	if err != nil {
		h.Log.Error("stored password hash is unreadable", "user_id", user.ID, "err", err)
	}
	if !match {
		h.form(c, http.StatusUnauthorized, req, email, errBadCredentials)
		return
	}
	redirect, err := h.Hydra.AcceptLogin(c, challenge, user.ID)
	if err == nil {
		h.Log.Info("signed in", "user_id", user.ID, "client_id", req.Client.GetClientId())
	}
	h.redirect(c, redirect, err)
}

func (h *Handler) loginRequest(c *gin.Context, challenge string) (*hydra.OAuth2LoginRequest, bool) {
	if challenge == "" {
		web.Error(c.Writer, http.StatusBadRequest, "Sign-in link incomplete",
			"This page is opened by an app that connects to your account. Start the connection from the app again.")
		return nil, false
	}
	req, err := h.Hydra.LoginRequest(c, challenge)
	if err != nil {
		HydraError(c, h.Log, err)
		return nil, false
	}
	return req, true
}

func (h *Handler) form(c *gin.Context, status int, req *hydra.OAuth2LoginRequest, email, message string) {
	name := req.Client.GetClientName()
	if name == "" {
		name = req.Client.GetClientId()
	}
	web.Render(c.Writer, status, "login.html", Page{
		Challenge:  req.Challenge,
		CSRFToken:  h.CSRF.Token(c.Writer, c.Request, "login:"+req.Challenge),
		ClientName: name,
		Email:      email,
		Error:      message,
	})
}

func (h *Handler) redirect(c *gin.Context, to string, err error) {
	if err != nil {
		HydraError(c, h.Log, err)
		return
	}
	// Hydra's redirect targets are its own URLs or the client's registered,
	// exactly matched redirect URI; no user input reaches them.
	c.Redirect(http.StatusFound, to)
}

// HydraError renders the page for a failed admin call: a challenge that is
// unknown or used is the user's to retry; anything else is our outage.
func HydraError(c *gin.Context, log *slog.Logger, err error) {
	if errors.Is(err, hydraadmin.ErrChallengeInvalid) {
		web.Error(c.Writer, http.StatusBadRequest, "This link has expired",
			"The sign-in request is unknown, expired or was already used. Go back to your app and connect again.")
		return
	}
	log.Error("hydra admin call failed", "err", err)
	web.Error(c.Writer, http.StatusServiceUnavailable, "Sign-in is unavailable", "Please try again in a moment.")
}

// Package logout is the sign-out step of Hydra's logout flow. Hydra sends
// the browser here with a logout challenge when someone asks to end their
// login session (GET /oauth2/sessions/logout, or an app's RP-initiated
// logout); the person confirms, and Hydra forgets the session and sends the
// browser on to the post-logout page.
package logout

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	hydra "github.com/ory/hydra-client-go/v2"

	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/web"
)

// Hydra is the part of Hydra's admin API the logout step uses.
type Hydra interface {
	LogoutRequest(ctx context.Context, challenge string) (*hydra.OAuth2LogoutRequest, error)
	AcceptLogout(ctx context.Context, challenge string) (string, error)
	RejectLogout(ctx context.Context, challenge string) error
}

// Users finds the person signing out, to name them on the page.
type Users interface {
	UserByID(ctx context.Context, id string) (store.User, error)
}

// Handler serves GET and POST /logout and GET /logged-out.
type Handler struct {
	Hydra  Hydra
	Users  Users
	CSRF   *csrf.Protector
	Locale *locale.Catalog
	Log    *slog.Logger
}

// Page is the data of logout.html.
type Page struct {
	Challenge string
	CSRFToken string
	// Email names the account; "" if it is gone.
	Email string
}

// Show handles GET /logout?logout_challenge=…: the confirmation page.
func (h *Handler) Show(c *gin.Context) {
	l := h.Locale.For(c.Writer, c.Request, "")
	challenge := c.Query("logout_challenge")
	req, ok := h.logoutRequest(c, l, challenge)
	if !ok {
		return
	}
	p := Page{Challenge: challenge, CSRFToken: h.CSRF.Token(c.Writer, c.Request, "logout:"+challenge)}
	if u, err := h.Users.UserByID(c, req.GetSubject()); err == nil {
		p.Email = u.Email
	}
	self := "/logout?logout_challenge=" + url.QueryEscape(challenge)
	web.Render(c.Writer, http.StatusOK, "logout.html", web.NewView(l, self, "logout.title", p))
}

// Submit handles POST /logout: sign out, or stay signed in.
func (h *Handler) Submit(c *gin.Context) {
	l := h.Locale.For(c.Writer, c.Request, "")
	challenge := c.PostForm("logout_challenge")
	if err := h.CSRF.Verify(c.Request, "logout:"+challenge); err != nil {
		web.Error(c.Writer, c.Request, l, web.BadForm)
		return
	}
	if _, ok := h.logoutRequest(c, l, challenge); !ok {
		return
	}
	if c.PostForm("action") != "logout" {
		if err := h.Hydra.RejectLogout(c, challenge); err != nil {
			web.HydraError(c.Writer, c.Request, l, h.Log, err)
			return
		}
		web.Notice(c.Writer, c.Request, l, "logout.kept.title", "logout.kept.message")
		return
	}
	redirect, err := h.Hydra.AcceptLogout(c, challenge)
	if err != nil {
		web.HydraError(c.Writer, c.Request, l, h.Log, err)
		return
	}
	h.CSRF.Renew(c.Writer)
	c.Redirect(http.StatusFound, redirect)
}

// Done handles GET /logged-out, where Hydra sends the browser after a
// logout that no app asked for.
func (h *Handler) Done(c *gin.Context) {
	web.Notice(c.Writer, c.Request, h.Locale.For(c.Writer, c.Request, ""), "logout.done.title", "logout.done.message")
}

func (h *Handler) logoutRequest(c *gin.Context, l *locale.Localizer, challenge string) (*hydra.OAuth2LogoutRequest, bool) {
	if challenge == "" {
		web.Error(c.Writer, c.Request, l, web.BadLink)
		return nil, false
	}
	req, err := h.Hydra.LogoutRequest(c, challenge)
	if err != nil {
		web.HydraError(c.Writer, c.Request, l, h.Log, err)
		return nil, false
	}
	return req, true
}

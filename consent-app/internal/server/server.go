// Package server wires the consent app's handlers into one Gin router.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/mcp-oauth/consent-app/internal/clientmeta"
	"github.com/mcp-oauth/consent-app/internal/config"
	"github.com/mcp-oauth/consent-app/internal/consent"
	"github.com/mcp-oauth/consent-app/internal/csrf"
	"github.com/mcp-oauth/consent-app/internal/edge"
	"github.com/mcp-oauth/consent-app/internal/firstparty"
	"github.com/mcp-oauth/consent-app/internal/hydraadmin"
	"github.com/mcp-oauth/consent-app/internal/locale"
	"github.com/mcp-oauth/consent-app/internal/login"
	"github.com/mcp-oauth/consent-app/internal/logout"
	"github.com/mcp-oauth/consent-app/internal/oautherr"
	"github.com/mcp-oauth/consent-app/internal/register"
	"github.com/mcp-oauth/consent-app/internal/revocation"
	"github.com/mcp-oauth/consent-app/internal/settings"
	"github.com/mcp-oauth/consent-app/internal/store"
	"github.com/mcp-oauth/consent-app/internal/telemetry"
	"github.com/mcp-oauth/consent-app/internal/tokenhook"
	"github.com/mcp-oauth/consent-app/internal/web"
	"github.com/mcp-oauth/ops/health"
	"github.com/mcp-oauth/ops/requestid"
)

// Deps are the server's collaborators.
type Deps struct {
	Config config.Config
	Hydra  hydraadmin.Admin
	Store  *store.Store
	Log    *slog.Logger
	// Metrics may be nil (no metrics).
	Metrics *telemetry.Metrics
	// Ready answers /readyz.
	Ready http.Handler
}

// New returns the consent app's HTTP handler. cfg must have been validated.
func New(d Deps) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	cfg := d.Config
	hydraPublic, _ := url.Parse(cfg.HydraPublicURL)
	public, _ := url.Parse(cfg.PublicURL)
	protector := csrf.New(cfg.CookieSecret, cfg.SecureCookies())
	languages := locale.MustNew(locale.Options{SecureCookies: cfg.SecureCookies(), Log: d.Log})

	r := gin.New()
	// Handlers log with the gin context; this makes it reach the request's
	// context and so its request id.
	r.ContextWithFallback = true
	// Client IPs (for sign-in throttling) come from X-Forwarded-For only
	// when the peer is a configured proxy; Validate checked the list.
	_ = r.SetTrustedProxies(cfg.TrustedProxies)
	r.Use(requestID, requestLog(d.Log, d.Metrics), recovery(d.Log))
	r.Use(func(c *gin.Context) { web.SetSecurityHeaders(c.Writer.Header()) })

	r.GET("/healthz", gin.WrapF(health.Live))
	r.GET("/readyz", gin.WrapH(d.Ready))
	r.GET("/static/*file", gin.WrapH(http.StripPrefix("/static/", web.Static())))

	meta := &edge.Metadata{
		HydraDiscoveryURL: cfg.HydraPublicURL + "/.well-known/openid-configuration",
		PublicURL:         cfg.PublicURL,
		// Bounded by the fetch's own deadline (Metadata.FetchTimeout).
		Client: &http.Client{},
		Log:    d.Log,
	}
	go meta.Warm(context.Background())
	// The issuer has no path, so the RFC 8414 and OIDC locations clients try
	// (path insertion and appending alike) are these two.
	for _, p := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		r.GET(p, cors, gin.WrapH(meta))
		r.OPTIONS(p, cors)
	}

	roots, _ := cfg.ClientMetadataRoots() // checked by Validate
	known, _ := cfg.KnownClients()        // checked by Validate
	proxy := (&edge.Proxy{HydraPublic: hydraPublic, Issuer: public, Locale: languages, Log: d.Log, Clients: &clientmeta.Resolver{
		Fetcher:        &clientmeta.Fetcher{AllowLoopback: cfg.ClientMetadataAllowLoopback, RootCAs: roots},
		Known:          known,
		Store:          d.Store,
		Hydra:          d.Hydra,
		MCPResourceURL: cfg.MCPResourceURL,
		Log:            d.Log,
	}}).Handler()
	for _, p := range edge.ProxiedPaths {
		if p == "/oauth2/auth" { // a browser navigation, not a cross-origin call
			r.Any(p, gin.WrapH(proxy))
		} else {
			r.Any(p, cors, gin.WrapH(proxy))
		}
	}

	reg := &register.Handler{Hydra: d.Hydra, MCPResourceURL: cfg.MCPResourceURL, Log: d.Log, Metrics: d.Metrics}
	r.POST("/oauth2/register", cors, reg.Register)
	r.OPTIONS("/oauth2/register", cors)

	lh := &login.Handler{Hydra: d.Hydra, Users: d.Store, CSRF: protector, Locale: languages,
		Throttle: login.NewThrottle(login.Limits{}), MCPResourceURL: cfg.MCPResourceURL, Log: d.Log}
	r.GET("/login", lh.Show)
	r.POST("/login", lh.Submit)

	ch := &consent.Handler{Hydra: d.Hydra, Store: d.Store, CSRF: protector, Locale: languages, Known: known,
		MCPResourceURL: cfg.MCPResourceURL, Log: d.Log, Metrics: d.Metrics}
	r.GET("/consent", ch.Show)
	r.POST("/consent", ch.Submit)

	oh := &logout.Handler{Hydra: d.Hydra, Users: d.Store, CSRF: protector, Locale: languages, Log: d.Log}
	r.GET("/logout", oh.Show)
	r.POST("/logout", oh.Submit)
	r.GET("/logged-out", oh.Done)

	settings.New(settings.Deps{
		Store:         d.Store,
		Revoker:       &revocation.Revoker{Store: d.Store, Hydra: d.Hydra, Log: d.Log, Metrics: d.Metrics},
		CSRF:          protector,
		Locale:        languages,
		Log:           d.Log,
		SignIn:        settings.SignInConfig{PublicURL: cfg.PublicURL, HydraPublicURL: cfg.HydraPublicURL, ClientSecret: firstparty.Secret(cfg.CookieSecret)},
		CookieSecret:  cfg.CookieSecret,
		SecureCookies: cfg.SecureCookies(),
	}).Mount(r)

	hook := &tokenhook.Handler{APIKey: cfg.TokenHookAPIKey, Connections: d.Store, Log: d.Log, Metrics: d.Metrics}
	r.POST("/internal/token-hook", hook.ServeHook)

	// Hydra sends the browser here when a flow fails before reaching the client.
	r.GET("/error", func(c *gin.Context) {
		web.Error(c.Writer, c.Request, languages.For(c.Writer, c.Request, ""), web.Problem{Status: http.StatusBadRequest,
			TitleID: "error.flow.title", TextID: "error.flow.message", Detail: c.Query("error_description")})
	})
	r.NoRoute(func(c *gin.Context) {
		oautherr.Write(c.Writer, http.StatusNotFound, oautherr.New(oautherr.NotFound, "no such endpoint on the auth origin"))
	})
	return r
}

// cors applies edge.CORS to a route; a preflight ends here.
func cors(c *gin.Context) {
	next := false
	edge.CORS(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { next = true })).ServeHTTP(c.Writer, c.Request)
	if !next {
		c.Abort()
	}
}

// requestID gives the request an id (ops/requestid) before anything logs.
func requestID(c *gin.Context) {
	requestid.Middleware(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		c.Request = r
		c.Next()
	})).ServeHTTP(c.Writer, c.Request)
}

// requestLog logs one line per request at debug, as the MCP server does
// (README: LOG_LEVEL=debug adds a line per request), and counts it by
// route. The query string is left out: it carries challenges and codes.
func requestLog(log *slog.Logger, m *telemetry.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		took := time.Since(start)
		m.Request(c.FullPath(), c.Writer.Status(), took)
		log.DebugContext(c, "request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "duration_ms", took.Milliseconds())
	}
}

// recovery turns a panic into a plain 500 without a stack trace in the
// response or the log.
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				log.ErrorContext(c, "panic in handler", "path", c.Request.URL.Path, "panic", p)
				c.Abort()
				oautherr.Write(c.Writer, http.StatusInternalServerError, oautherr.New(oautherr.ServerError, "internal error"))
			}
		}()
		c.Next()
	}
}

package stack

import (
	"fmt"
	"os"
	"strconv"
)

// Ports are the TCP ports the stack listens on, all on 127.0.0.1.
type Ports struct {
	ConsentApp  int // the issuer and only public auth origin
	HydraPublic int // reached only through the consent app's proxy
	HydraAdmin  int // reached only by the consent app and the MCP server
	MCPServer   int
	// The metrics listeners, apart from the public ones.
	ConsentAppMetrics int
	MCPServerMetrics  int
}

// DefaultPorts returns the local addresses of the README, used by the run
// command so that the printed URLs never change.
func DefaultPorts() Ports {
	return Ports{ConsentApp: 3000, HydraPublic: 4444, HydraAdmin: 4445, MCPServer: 8080,
		ConsentAppMetrics: 9100, MCPServerMetrics: 9101}
}

// endpoints derives every address of one stack from its public host name and
// ports, so the children's environments cannot disagree with each other.
type endpoints struct {
	host  string // in public URLs only; everything listens on 127.0.0.1
	ports Ports
	// publicURL and mcpResourceURL, when set, are the public URLs instead
	// of those derived from host and ports (Options.PublicURL).
	publicURL, mcpResourceURL string
}

// issuer is the consent app's public origin, without a trailing slash: Hydra
// compares the issuer byte for byte.
func (e endpoints) issuer() string {
	if e.publicURL != "" {
		return e.publicURL
	}
	return fmt.Sprintf("http://%s:%d", e.host, e.ports.ConsentApp)
}

// mcpURL is the canonical MCP resource: the only audience the MCP server accepts.
func (e endpoints) mcpURL() string {
	if e.mcpResourceURL != "" {
		return e.mcpResourceURL
	}
	return fmt.Sprintf("http://%s:%d/mcp", e.host, e.ports.MCPServer)
}

func (e endpoints) hydraPublic() string { return "http://" + listenAddr(e.ports.HydraPublic) }
func (e endpoints) hydraAdmin() string  { return "http://" + listenAddr(e.ports.HydraAdmin) }

// internalURL is how Hydra reaches the consent app: by its listen address, not
// the public host name, which may resolve to ::1 where nothing listens.
func (e endpoints) internalURL() string { return "http://" + listenAddr(e.ports.ConsentApp) }

func listenAddr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// baseEnv is what every server inherits from the launcher. Everything else is
// set explicitly: Hydra reads any config key from the environment, and a
// developer's DATABASE_URL or DSN must not leak into a test stack.
func baseEnv() []string {
	env := []string{"PATH=" + os.Getenv("PATH")}
	for _, k := range []string{"HOME", "TMPDIR", "TZ"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// hydraEnv overrides hydra/hydra.yml for this stack (names from the
// contracts). The token hook URL is overridden field by field: setting
// OAUTH2_TOKEN_HOOK itself stops Hydra from starting (docs/design.md quirk 10).
func hydraEnv(e endpoints, dsn string, s Secrets) []string {
	issuer := e.issuer()
	return append(baseEnv(),
		"DSN="+dsn,
		"URLS_SELF_ISSUER="+issuer,
		"URLS_SELF_PUBLIC="+issuer+"/",
		"URLS_LOGIN="+issuer+"/login",
		"URLS_CONSENT="+issuer+"/consent",
		"URLS_LOGOUT="+issuer+"/logout",
		"URLS_ERROR="+issuer+"/error",
		"URLS_POST_LOGOUT_REDIRECT="+issuer+"/logged-out",
		"WEBFINGER_OIDC_DISCOVERY_CLIENT_REGISTRATION_URL="+issuer+"/oauth2/register",
		"SECRETS_SYSTEM="+s.System,
		"SERVE_PUBLIC_HOST=127.0.0.1",
		"SERVE_PUBLIC_PORT="+strconv.Itoa(e.ports.HydraPublic),
		"SERVE_ADMIN_HOST=127.0.0.1",
		"SERVE_ADMIN_PORT="+strconv.Itoa(e.ports.HydraAdmin),
		"OAUTH2_TOKEN_HOOK_URL="+e.internalURL()+"/internal/token-hook",
		"OAUTH2_TOKEN_HOOK_AUTH_CONFIG_VALUE="+s.TokenHookAPIKey,
	)
}

func consentAppEnv(e endpoints, databaseURL string, s Secrets) []string {
	return append(baseEnv(),
		"MODE=development",
		"LISTEN_ADDR="+listenAddr(e.ports.ConsentApp),
		"METRICS_ADDR="+listenAddr(e.ports.ConsentAppMetrics),
		"PUBLIC_URL="+e.issuer(),
		"MCP_RESOURCE_URL="+e.mcpURL(),
		"HYDRA_PUBLIC_URL="+e.hydraPublic(),
		"HYDRA_ADMIN_URL="+e.hydraAdmin(),
		"DATABASE_URL="+databaseURL,
		"TOKEN_HOOK_API_KEY="+s.TokenHookAPIKey,
		"COOKIE_SECRET="+s.CookieSecret,
	)
}

func mcpServerEnv(e endpoints, databaseURL string) []string {
	return append(baseEnv(),
		"MODE=development",
		"LISTEN_ADDR="+listenAddr(e.ports.MCPServer),
		"METRICS_ADDR="+listenAddr(e.ports.MCPServerMetrics),
		"MCP_RESOURCE_URL="+e.mcpURL(),
		"AUTH_ISSUER="+e.issuer(),
		"HYDRA_ADMIN_URL="+e.hydraAdmin(),
		"DATABASE_URL="+databaseURL,
	)
}

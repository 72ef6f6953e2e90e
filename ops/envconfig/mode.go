package envconfig

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Mode is how strict a service is. Production is the default: a deployment
// has to opt out of safety, never into it.
type Mode string

const (
	Production  Mode = "production"
	Development Mode = "development"
)

// ModeVar declares MODE for a service's table.
var ModeVar = Var{Name: "MODE", Default: string(Production),
	Meaning: "`production` refuses plain-http public URLs and demo seeding; `development` allows http on loopback hosts"}

// ParseMode checks a MODE value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Production, Development:
		return m, nil
	}
	return "", fmt.Errorf("MODE must be production or development, got %q", s)
}

// CheckPublicURL checks a URL that clients or browsers use (both services
// call it for every public URL they are configured with): an absolute URL
// without user info, query or fragment, over https, or, in development,
// plain http on a loopback host.
func CheckPublicURL(m Mode, name, raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("%s must be an absolute http(s) URL, got %q", name, raw)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%s must not have user info, a query or a fragment, got %q", name, raw)
	case u.Scheme == "https":
		return nil
	case m == Production:
		return fmt.Errorf("%s is plain http (%s); production needs https (set MODE=development for a local run)", name, raw)
	case !IsLoopback(u.Hostname()):
		return fmt.Errorf("%s may use plain http only on localhost, 127.0.0.1 or [::1]; use https, got %q", name, raw)
	}
	return nil
}

// CheckURL checks a URL the service calls itself (Hydra's listeners): an
// absolute http(s) URL.
func CheckURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s must be an absolute http(s) URL, got %q", name, raw)
	}
	return nil
}

// IsLoopback reports whether host names this computer.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

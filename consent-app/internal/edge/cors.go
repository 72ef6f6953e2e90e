package edge

import (
	"net/http"
	"slices"
	"strings"
)

// CORS lets browser-based clients such as MCP Inspector read the metadata
// and call the registration, token and revocation endpoints. These endpoints
// trust what a request carries, never a cookie, so any origin may call them;
// credentials are not allowed, which keeps the sign-in session out of reach.
// A preflight is answered here and goes no further.
func CORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", AllowedHeaders(r.Header.Get("Access-Control-Request-Headers")))
			h.Set("Access-Control-Max-Age", "7200")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// AllowedHeaders answers a preflight's Access-Control-Request-Headers:
// whatever header names the client will send (MCP-Protocol-Version on
// discovery, Authorization for client_secret_basic) plus the usual ones.
// Anything that is not a list of header names is ignored.
func AllowedHeaders(requested string) string {
	allowed := []string{"Authorization", "Content-Type", "Accept", "MCP-Protocol-Version"}
	for name := range strings.SplitSeq(requested, ",") {
		name = strings.TrimSpace(name)
		if name != "" && isToken(name) && !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, name) }) {
			allowed = append(allowed, name)
		}
	}
	return strings.Join(allowed, ", ")
}

func isToken(s string) bool {
	for _, c := range s {
		if !(c == '-' || c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

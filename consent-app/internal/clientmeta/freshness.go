package clientmeta

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Cache lifetimes of a fetched document.
const (
	// DefaultFreshness applies when the response says nothing about caching.
	DefaultFreshness = 5 * time.Minute
	// MaxFreshness caps what a response may ask for, so that a changed
	// document (new redirect URIs, a compromised client withdrawn) is seen
	// within a day.
	MaxFreshness = 24 * time.Hour
)

// Freshness is how long a document fetched at now may be reused, read from
// its response headers as a shared cache would (RFC 9111): no-store and
// no-cache allow no reuse; s-maxage, then max-age, then Expires give the
// lifetime, less the response's Age; without any of them DefaultFreshness.
// The result is between zero and MaxFreshness.
func Freshness(h http.Header, now time.Time) time.Duration {
	directives := map[string]string{}
	for _, line := range h.Values("Cache-Control") {
		for part := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
			directives[strings.ToLower(name)] = strings.Trim(value, `"`)
		}
	}
	_, noStore := directives["no-store"]
	_, noCache := directives["no-cache"]
	if noStore || noCache {
		return 0
	}
	lifetime, found := DefaultFreshness, false
	for _, name := range []string{"s-maxage", "max-age"} {
		if v, ok := directives[name]; ok {
			secs, err := strconv.ParseInt(v, 10, 64)
			if err != nil || secs < 0 {
				return 0 // a malformed lifetime is treated as stale (RFC 9111 §4.2.1)
			}
			lifetime, found = time.Duration(min(secs, int64(MaxFreshness/time.Second)))*time.Second, true
			break
		}
	}
	if !found && h.Get("Expires") != "" {
		expires, err := http.ParseTime(h.Get("Expires"))
		if err != nil {
			return 0
		}
		date := now
		if d, err := http.ParseTime(h.Get("Date")); err == nil {
			date = d
		}
		lifetime = expires.Sub(date)
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
		lifetime -= time.Duration(min(age, int64(MaxFreshness/time.Second))) * time.Second
	}
	return min(max(lifetime, 0), MaxFreshness)
}

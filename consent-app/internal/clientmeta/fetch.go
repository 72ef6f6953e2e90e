package clientmeta

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits of one fetch. The draft suggests 5 KB as the largest document.
const (
	DefaultTimeout  = 5 * time.Second
	DefaultMaxBytes = 5 << 10
)

// Fetcher fetches metadata documents without becoming a way into the
// network it runs in: only public addresses, checked on the address actually
// dialled (after DNS resolution, so a name that resolves to a private
// address is refused too), no proxies, no redirects, bounded time and size.
type Fetcher struct {
	// AllowLoopback also permits loopback addresses and plain http to them.
	// Development only: it lets a client on this computer serve its document.
	AllowLoopback bool
	// RootCAs verifies document servers; nil = the system roots.
	RootCAs *x509.CertPool
	// Timeout bounds a fetch from dialling to the last byte; zero = DefaultTimeout.
	Timeout time.Duration
	// MaxBytes bounds a document; zero = DefaultMaxBytes.
	MaxBytes int64

	once   sync.Once
	client *http.Client
}

// Fetched is a document and how long it may be reused.
type Fetched struct {
	Body     []byte
	FreshFor time.Duration
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout == 0 {
		return DefaultTimeout
	}
	return f.Timeout
}

func (f *Fetcher) httpClient() *http.Client {
	f.once.Do(func() {
		dialer := &net.Dialer{Timeout: f.timeout(), Control: f.checkDial}
		f.client = &http.Client{
			Timeout: f.timeout(),
			Transport: &http.Transport{
				Proxy:                 nil, // a proxy would dial for us, unchecked
				DialContext:           dialer.DialContext,
				TLSClientConfig:       &tls.Config{RootCAs: f.RootCAs, MinVersion: tls.VersionTLS12},
				TLSHandshakeTimeout:   f.timeout(),
				ResponseHeaderTimeout: f.timeout(),
				MaxIdleConns:          10,
				IdleConnTimeout:       30 * time.Second,
				ForceAttemptHTTP2:     true,
			},
			// The draft forbids following redirects.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	})
	return f.client
}

// checkDial runs for every address the dialer is about to connect to.
func (f *Fetcher) checkDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	if !PublicAddress(ip, f.AllowLoopback) {
		return errorf("its host resolves to %s, a private or reserved address", ip)
	}
	return nil
}

// reserved are ranges that are global unicast by Go's reckoning but never
// a public web server, or that can smuggle a private IPv4 address.
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/32"), // Teredo
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"), // 6to4
}

// PublicAddress reports whether ip may be fetched from: a public unicast
// address, or with allowLoopback also a loopback one.
func PublicAddress(ip netip.Addr, allowLoopback bool) bool {
	ip = ip.Unmap()
	if ip.IsLoopback() {
		return allowLoopback
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range reserved {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Fetch gets the document at u. Every failure is an *Error naming what is
// wrong, for the client's developer.
func (f *Fetcher) Fetch(ctx context.Context, u *url.URL) (Fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Fetched{}, errorf("the client metadata document URL %s cannot be requested", u)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.httpClient().Do(req)
	if err != nil {
		return Fetched{}, fetchError(u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return Fetched{}, errorf("the client metadata document at %s answered with a redirect (HTTP %d); redirects are not followed", u, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return Fetched{}, errorf("the client metadata document at %s answered HTTP %d, not 200", u, resp.StatusCode)
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return Fetched{}, errorf("the client metadata document at %s has content type %q; it must be application/json", u, resp.Header.Get("Content-Type"))
	}
	limit := f.MaxBytes
	if limit == 0 {
		limit = DefaultMaxBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return Fetched{}, fetchError(u, err)
	}
	if int64(len(body)) > limit {
		return Fetched{}, errorf("the client metadata document at %s is larger than %d bytes", u, limit)
	}
	return Fetched{Body: body, FreshFor: Freshness(resp.Header, time.Now())}, nil
}

func fetchError(u *url.URL, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return errorf("the client metadata document at %s cannot be fetched: %s", u, e.Description)
	}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return errorf("the client metadata document host %s cannot be resolved", u.Hostname())
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return errorf("the client metadata document at %s did not arrive within the time limit", u)
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return errorf("the client metadata document server %s has a certificate that cannot be verified", u.Host)
	}
	return errorf("the client metadata document at %s cannot be fetched: %s", u, describe(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// describe keeps the innermost message of a network error: the outer layers
// repeat the URL.
func describe(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

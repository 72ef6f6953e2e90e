package login

import (
	"net/netip"
	"strings"
	"time"

	"github.com/mcp-oauth/consent-app/internal/throttle"
)

// Limits bound failed sign-ins. A zero field takes its default.
type Limits struct {
	// PerAccount is how many failures one email address may have within
	// Window, whether or not it has an account (so the limit reveals
	// nothing); 0 = 5.
	PerAccount int
	// PerAddress is how many failures one client address may have within
	// Window, across all email addresses; 0 = 20. IPv6 clients count per
	// /64, the block one subscriber usually holds.
	PerAddress int
	// Window is how long a failure counts; 0 = 15 minutes.
	Window time.Duration
}

// Throttle slows down password guessing against one account and from one
// client address.
type Throttle struct {
	accounts, addresses *throttle.Limiter
}

// NewThrottle returns a Throttle with the limits l.
func NewThrottle(l Limits) *Throttle {
	if l.PerAccount == 0 {
		l.PerAccount = 5
	}
	if l.PerAddress == 0 {
		l.PerAddress = 20
	}
	if l.Window == 0 {
		l.Window = 15 * time.Minute
	}
	return &Throttle{accounts: throttle.New(l.PerAccount, l.Window), addresses: throttle.New(l.PerAddress, l.Window)}
}

// Wait is how long a sign-in to account from address must wait; 0 = now.
func (t *Throttle) Wait(account, address string) time.Duration {
	return max(t.accounts.Wait(account), t.addresses.Wait(address))
}

// Fail counts a failed sign-in against both.
func (t *Throttle) Fail(account, address string) {
	t.accounts.Fail(account)
	t.addresses.Fail(address)
}

// Succeed clears the account's failures. The address keeps its count: one
// good password of their own must not buy a guesser more tries elsewhere.
func (t *Throttle) Succeed(account string) { t.accounts.Forget(account) }

// accountKey is the throttle key of an email address: as the store compares
// them, ignoring case and surrounding space.
func accountKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// addressKey is the throttle key of a client IP: the address itself, or its
// /64 for IPv6.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

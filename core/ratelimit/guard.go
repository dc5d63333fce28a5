package ratelimit

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
)

// Scope names what a refusal limits: the account tried or the client
// address trying.
type Scope string

const (
	// ScopeAccount is a lockout of one account (an email address).
	ScopeAccount Scope = "account"
	// ScopeAddress is a lockout of one client address.
	ScopeAddress Scope = "address"
)

// Denied is a refused attempt: the scope locked out and how long is left.
type Denied struct {
	Scope      Scope
	RetryAfter time.Duration
}

// Error describes the refusal.
func (d *Denied) Error() string {
	what := "this account"
	if d.Scope == ScopeAddress {
		what = "your address"
	}
	return fmt.Sprintf("too many failed attempts for %s; try again in %d seconds", what, d.Seconds())
}

// Seconds is RetryAfter in whole seconds, rounded up, as a Retry-After
// header carries it.
func (d *Denied) Seconds() int {
	return max(1, int(math.Ceil(d.RetryAfter.Seconds())))
}

// GuardPolicy configures a Guard: one Policy per account, one per client
// address.
type GuardPolicy struct {
	Account, Address Policy
}

// DefaultGuardPolicy lets an account fail 5 times in a row and an address
// 20 times (across accounts, e.g. people behind one NAT), then locks them
// out for 30 seconds, doubling with each further failure up to 15 minutes.
// The short cap bounds how long someone can lock a real user out of their
// own account.
func DefaultGuardPolicy() GuardPolicy {
	return GuardPolicy{
		Account: Policy{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute, Forget: time.Hour, MaxKeys: 10000},
		Address: Policy{Free: 20, Base: 30 * time.Second, Max: 15 * time.Minute, Forget: time.Hour, MaxKeys: 10000},
	}
}

// Guard throttles sign-in (and setup) attempts per account and per client
// address. It is safe for concurrent use.
type Guard struct {
	accounts, addresses *Limiter
}

// NewGuard returns a Guard with policy p; now is the clock (nil: time.Now).
func NewGuard(p GuardPolicy, now func() time.Time) *Guard {
	return &Guard{accounts: New(p.Account, now), addresses: New(p.Address, now)}
}

// Pass is an admitted attempt; call Succeeded when the secret was right.
// A failure needs no call: it was counted when admitted.
type Pass struct {
	g       *Guard
	account string
	addr    *Attempt
}

// Begin admits an attempt on account from addr (a client IP), counting it
// as a failure of both, or refuses it with a *Denied while either is locked
// out. Call it before checking the secret.
func (g *Guard) Begin(account, addr string) (*Pass, error) {
	addrKey, accountKey := AddressKey(addr), AccountKey(account)
	a, wait := g.addresses.Begin(addrKey)
	if a == nil {
		return nil, &Denied{Scope: ScopeAddress, RetryAfter: wait}
	}
	if _, wait := g.accounts.Begin(accountKey); wait > 0 {
		a.Succeeded() // nothing was checked: do not count it against the address
		return nil, &Denied{Scope: ScopeAccount, RetryAfter: wait}
	}
	return &Pass{g: g, account: accountKey, addr: a}, nil
}

// Succeeded clears the account's failures and takes this attempt back from
// the address's count. A nil Pass is ignored.
func (p *Pass) Succeeded() {
	if p == nil {
		return
	}
	p.g.accounts.Reset(p.account)
	p.addr.Succeeded()
}

// AccountKey normalizes an account name (an email) as a key: trimmed and
// lower case, as the store compares emails.
func AccountKey(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// AddressKey normalizes a client IP as a key: an IPv4 address as is, an
// IPv6 address as its /64 network, since one client usually holds a whole
// /64 and could otherwise rotate addresses within it. Text that is not an
// IP is used as is.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}

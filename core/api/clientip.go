package api

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// TrustedProxies are the reverse proxies (addresses or CIDR ranges) allowed
// to name the client in X-Forwarded-For.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// ParseTrustedProxies reads addresses ("10.0.0.1") and CIDR ranges
// ("10.0.0.0/8"); an empty list gives nil (trust no proxy).
func ParseTrustedProxies(list []string) (*TrustedProxies, error) {
	var t TrustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			t.prefixes = append(t.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an IP address or CIDR range", s)
		}
		a = a.Unmap()
		t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	if len(t.prefixes) == 0 {
		return nil, nil
	}
	return &t, nil
}

// trusts reports whether a is a trusted proxy.
func (t *TrustedProxies) trusts(a netip.Addr) bool {
	if t == nil {
		return false
	}
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the client's address given the connection's peer and the
// request's X-Forwarded-For values: the peer, unless it is a trusted proxy;
// then the right-most address of X-Forwarded-For that is not a trusted
// proxy (each proxy appends the address it was called from, so entries
// further left were written by the client and prove nothing).
func (t *TrustedProxies) Client(peer netip.Addr, forwardedFor []string) netip.Addr {
	peer = peer.Unmap()
	if !t.trusts(peer) {
		return peer
	}
	client := peer
	for i := len(forwardedFor) - 1; i >= 0; i-- {
		hops := strings.Split(forwardedFor[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[j]))
			if err != nil {
				return client // garbage: stop at the last address a proxy vouched for
			}
			client = a.Unmap()
			if !t.trusts(client) {
				return client
			}
		}
	}
	return client
}

const clientIPKey = "berth.client_ip"

// clientIPMiddleware resolves the client's address once per request.
func clientIPMiddleware(t *TrustedProxies) fiber.Handler {
	return func(c *fiber.Ctx) error {
		peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
		var xff []string
		if t != nil {
			for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
				xff = append(xff, string(v))
			}
		}
		c.Locals(clientIPKey, t.Client(peer, xff).String())
		return c.Next()
	}
}

// ClientIP is the address of the client that sent the request: the peer of
// the connection, or, behind a trusted proxy, the address that proxy saw
// (see TrustedProxies.Client). The API and the dashboard throttle sign-in
// by it.
func ClientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(clientIPKey).(string); ok {
		return ip
	}
	return c.IP()
}

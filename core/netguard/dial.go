package netguard

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// Control is a net.Dialer Control function that refuses a connection to an
// internal address the allow list does not cover. It sees the address
// actually connected to, after resolution, so a host name re-pointed between
// a check and the connection (DNS rebinding) is still refused. Host-name
// entries of the allow list do not apply here (the name is gone); use
// DialContext to honour them.
func (g *Guard) Control(ctx context.Context) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		return g.checkDialed(ctx, address)
	}
}

func (g *Guard) checkDialed(ctx context.Context, address string) error {
	if g.open {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: connect to %q: %w", address, err)
	}
	allow, err := g.allowList(ctx)
	if err != nil {
		return err
	}
	local, err := g.localNets()
	if err != nil {
		return err
	}
	if why := local.blocked(ap.Addr()); why != "" && !allow.hasAddr(ap.Addr()) {
		return &BlockedError{Field: "address", Message: fmt.Sprintf("connecting to %s refused: %s; %s", ap.Addr(), why, askAdmin)}
	}
	return nil
}

// DialContext returns a dial function for http.Transport.DialContext that
// connects with d (a zero Dialer when nil) and refuses internal addresses at
// connect time, unless the host name dialled is on the allow list.
func (g *Guard) DialContext(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if d == nil {
		d = &net.Dialer{}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if g.open {
			return d.DialContext(ctx, network, addr)
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("netguard: %w", err)
		}
		allow, err := g.allowList(ctx)
		if err != nil {
			return nil, err
		}
		if _, literal := parseAddr(normalizeHost(host)); !literal && allow.hasName(normalizeHost(host)) {
			return d.DialContext(ctx, network, addr)
		}
		if a, literal := parseAddr(normalizeHost(host)); literal && !a.Is6() {
			// Dial the canonical form, so "2130706433" cannot reach a resolver.
			_, port, _ := net.SplitHostPort(addr)
			addr = net.JoinHostPort(a.String(), port)
		}
		checked := *d
		guard, prev := g.Control(ctx), d.Control
		checked.Control = func(network, address string, c syscall.RawConn) error {
			if err := guard(network, address, c); err != nil {
				return err
			}
			if prev != nil {
				return prev(network, address, c)
			}
			return nil
		}
		return checked.DialContext(ctx, network, addr)
	}
}

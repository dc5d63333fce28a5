// Package netguard decides whether berth may send a request to an address a
// tenant chose: a git connection's base URL, a repository address, an S3
// endpoint. It refuses the addresses that reach the berth host itself or its
// neighbours rather than the internet or the tenant's own servers: loopback,
// unspecified, link-local (cloud metadata at 169.254.169.254 included) and
// multicast addresses, the host's own interface addresses, and the subnets
// of the Docker bridges on this host (docker0, docker_gwbridge, br-*), where
// other tenants' containers live. Entries of the instance setting
// outbound_allow (IPs, CIDRs or host names) lift the refusal; instance
// administrators are not checked at all (Open).
//
// A Guard checks a URL when it is saved (CheckURL, CheckRepository, and
// CheckHostPort for a server a plugin connects to without a URL), again
// before each use (RecheckURL, RecheckHostPort: host names are resolved again, which catches
// a name re-pointed at an internal address after it was saved), and, for
// requests the core makes itself, at connect time (Control, DialContext),
// which closes the DNS-rebinding window. Requests made inside plugins cannot
// be checked at connect time: between the re-check and the plugin's own
// resolution a name could still change (see docs/outbound.md).
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BlockedError refuses an outbound address. The API answers 403 naming
// Field; the dashboard shows Message on the field.
type BlockedError struct {
	// Field is the request field holding the address, e.g. "base_url".
	Field string
	// Message says what is refused and how to get it allowed. It never
	// contains an address the tenant did not type.
	Message string
}

func (e *BlockedError) Error() string { return e.Field + ": " + e.Message }

// Resolver resolves host names; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Interface is one network interface of the host and its addresses.
type Interface struct {
	Name string
	// Addrs are the interface's addresses with their subnets.
	Addrs []netip.Prefix
}

// Options configure a Guard.
type Options struct {
	// Allow returns the instance's outbound_allow entries; it is called on
	// every check, so a changed setting applies at once. Nil allows nothing.
	Allow func(ctx context.Context) ([]string, error)
	// Resolver resolves host names (default net.DefaultResolver).
	Resolver Resolver
	// Interfaces lists the host's interfaces (default: net.Interfaces,
	// cached for a few seconds).
	Interfaces func() ([]Interface, error)
	// LookupTimeout bounds one resolution (default 5s).
	LookupTimeout time.Duration
}

// Guard checks outbound addresses. The zero value and nil are not usable;
// build one with New or Open.
type Guard struct {
	o    Options
	open bool
}

// New returns a Guard that checks addresses with o.
func New(o Options) *Guard {
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	if o.Interfaces == nil {
		o.Interfaces = cachedInterfaces(5 * time.Second)
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = 5 * time.Second
	}
	return &Guard{o: o}
}

// Open returns a Guard that allows every address, for instance
// administrators.
func Open() *Guard { return &Guard{open: true} }

// IsOpen reports whether g allows every address.
func (g *Guard) IsOpen() bool { return g.open }

// CheckURL checks an http(s) URL a tenant gave in field: every address its
// host resolves to must be allowed. An empty URL, or one without a host, is
// left to the caller's own validation. A name that does not resolve is
// accepted here (it reaches nothing yet) and checked again before each use.
func (g *Guard) CheckURL(ctx context.Context, field, raw string) error {
	if g.open || strings.TrimSpace(raw) == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return nil
	}
	return g.CheckHost(ctx, field, u.Hostname())
}

// CheckRepository checks a git repository address a tenant gave in field:
// an http(s), ssh or git URL, or scp-like user@host:path. Addresses without
// a host (owner/repo, resolved through a git connection checked on its own;
// local paths, governed by core/hostaccess) are not checked.
func (g *Guard) CheckRepository(ctx context.Context, field, repo string) error {
	if g.open {
		return nil
	}
	host, ok := RepositoryHost(repo)
	if !ok {
		return nil
	}
	return g.CheckHost(ctx, field, host)
}

// RepositoryHost returns the host of a git repository address, and false
// when it names none (owner/repo, a local path or file:// URL).
func RepositoryHost(repo string) (string, bool) {
	r := strings.TrimSpace(repo)
	if r == "" || strings.HasPrefix(r, "/") {
		return "", false
	}
	if i := strings.Index(r, "://"); i > 0 {
		u, err := url.Parse(r)
		if err != nil || strings.EqualFold(u.Scheme, "file") || u.Host == "" {
			return "", false
		}
		return u.Hostname(), true
	}
	// scp-like: [user@]host:path, where the host part has no slash.
	if at := strings.Index(r, "@["); at >= 0 || strings.HasPrefix(r, "[") {
		rest := r[at+1:]
		end := strings.Index(rest, "]:")
		if end < 0 || strings.Contains(r[:at+1], "/") {
			return "", false
		}
		return rest[1:end], true
	}
	colon := strings.Index(r, ":")
	if colon <= 0 || strings.Contains(r[:colon], "/") {
		return "", false
	}
	host := r[:colon]
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return "", false
	}
	return host, true
}

// CheckHost checks a host name or address literal a tenant gave in field.
func (g *Guard) CheckHost(ctx context.Context, field, host string) error {
	return g.check(ctx, field, host, false)
}

// RecheckURL checks a saved URL right before it is used, by whoever uses
// it: a host name is resolved again and refused if it now reaches an
// internal address the allow list does not cover. Address literals and
// localhost names were judged when the URL was saved (against whoever saved
// it, instance administrators included) and cannot change, so they pass.
func (g *Guard) RecheckURL(ctx context.Context, field, raw string) error {
	if g.open || strings.TrimSpace(raw) == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return nil
	}
	return g.check(ctx, field, u.Hostname(), true)
}

// RecheckRepository is RecheckURL for a git repository address.
func (g *Guard) RecheckRepository(ctx context.Context, field, repo string) error {
	if g.open {
		return nil
	}
	host, ok := RepositoryHost(repo)
	if !ok {
		return nil
	}
	return g.check(ctx, field, host, true)
}

// CheckHostPort checks a host a tenant gave in field for a plugin that
// connects to it itself rather than through a URL (an SMTP server: the
// properties a settings schema marks "x-berth-outbound-host"), with the
// rules of CheckURL: every address the host resolves to must be allowed,
// an empty host is left to the caller's validation, a name that does not
// resolve is accepted here and checked again before each use. host is a
// name or an address literal (IPv6 with or without brackets); a host
// written host:port is judged on its host part, so a port typed into the
// host field cannot hide an address. port is the port the plugin connects
// to (0: its default); it only appears in the refusal's message: ports
// are not part of the rules (outbound_allow names addresses and hosts),
// as a URL's port is not.
func (g *Guard) CheckHostPort(ctx context.Context, field, host string, port int) error {
	if g.open {
		return nil
	}
	h, p := splitHostPort(host, port)
	return g.checkPort(ctx, field, h, p, false)
}

// RecheckHostPort is RecheckURL for a host and port saved with
// CheckHostPort: right before the plugin connects, a host name is resolved
// again and refused if it now reaches an internal address the allow list
// does not cover; address literals and localhost names, judged when saved,
// pass.
func (g *Guard) RecheckHostPort(ctx context.Context, field, host string, port int) error {
	if g.open {
		return nil
	}
	h, p := splitHostPort(host, port)
	return g.checkPort(ctx, field, h, p, true)
}

// splitHostPort returns the host of a host field that may carry its own
// port (name:port, [v6]:port) and the port to name: the field's own, or
// port when it has none. A bare IPv6 literal has no port.
func splitHostPort(host string, port int) (string, int) {
	host = strings.TrimSpace(host)
	h, ps, err := net.SplitHostPort(host)
	if err != nil || h == "" {
		return host, port
	}
	if p, err := strconv.Atoi(ps); err == nil && p > 0 && p <= 65535 {
		return h, p
	}
	return h, port
}

func (g *Guard) check(ctx context.Context, field, host string, recheck bool) error {
	return g.checkPort(ctx, field, host, 0, recheck)
}

// checkPort checks host; port > 0 is named in a refusal.
func (g *Guard) checkPort(ctx context.Context, field, host string, port int, recheck bool) error {
	if g.open {
		return nil
	}
	host = normalizeHost(host)
	if host == "" {
		return nil
	}
	literal, isLiteral := parseAddr(host)
	if recheck && (isLiteral || isLocalhostName(host)) {
		return nil
	}
	allow, err := g.allowList(ctx)
	if err != nil {
		return err
	}
	if !isLiteral && allow.hasName(host) {
		return nil
	}
	local, err := g.localNets()
	if err != nil {
		return err
	}
	addrs := []netip.Addr{literal}
	if !isLiteral {
		if isLocalhostName(host) {
			// Resolvers answer loopback for these whatever DNS says (RFC 6761).
			return &BlockedError{Field: field, Message: fmt.Sprintf("%q%s is this host (loopback); %s", host, portNote(port), askAdmin)}
		}
		lctx, cancel := context.WithTimeout(ctx, g.o.LookupTimeout)
		addrs, err = g.o.Resolver.LookupNetIP(lctx, "ip", host)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return nil // resolves to nothing: reaches nothing; checked again before use
		}
	}
	for _, a := range addrs {
		why := local.blocked(a)
		if why == "" || allow.hasAddr(a) {
			continue
		}
		if isLiteral {
			return &BlockedError{Field: field, Message: fmt.Sprintf("%q%s is %s; %s", host, portNote(port), why, askAdmin)}
		}
		return &BlockedError{Field: field, Message: fmt.Sprintf("%q%s resolves to %s; %s", host, portNote(port), why, askAdmin)}
	}
	return nil
}

// portNote names a port in a refusal, or nothing for 0.
func portNote(port int) string {
	if port <= 0 {
		return ""
	}
	return fmt.Sprintf(" (port %d)", port)
}

const askAdmin = "only instance administrators may aim requests at addresses of the berth host and its internal networks (an instance administrator can allow it in the instance setting outbound_allow)"

// normalizeHost lowercases a host, strips brackets and a trailing dot.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(h, ".")
}

func isLocalhostName(h string) bool {
	return h == "localhost" || strings.HasSuffix(h, ".localhost") || h == "localhost.localdomain"
}

// parseAddr parses an address literal the way the clients that will
// connect do: IPv6 (with a zone), dotted IPv4, and the inet_aton forms
// ("2130706433", "0x7f.1", "0177.0.0.1", "127.1") that libc-based clients
// such as git and curl accept.
func parseAddr(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.WithZone(""), true
	}
	if a, ok := parseInetAton(h); ok {
		return a, true
	}
	return netip.Addr{}, false
}

// parseInetAton parses the numbers-and-dots forms of inet_aton(3): one to
// four parts, each decimal, octal (leading 0) or hexadecimal (0x), the last
// filling the remaining bytes.
func parseInetAton(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, ok := parseAtonPart(p)
		if !ok {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 0xff {
			return netip.Addr{}, false
		}
		n |= vals[i] << (24 - 8*uint(i))
	}
	if vals[last] >= 1<<(8*uint(4-last)) {
		return netip.Addr{}, false
	}
	n |= vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

func parseAtonPart(p string) (uint64, bool) {
	base, digits := 10, p
	switch {
	case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
		base, digits = 16, p[2:]
		if digits == "" {
			return 0, true // "0x" alone is 0 for inet_aton
		}
	case len(p) > 1 && p[0] == '0':
		base, digits = 8, p[1:]
	}
	if digits == "" || len(digits) > 12 {
		return 0, false
	}
	var v uint64
	for _, c := range digits {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, false
		}
		if d >= uint64(base) {
			return 0, false
		}
		v = v*uint64(base) + d
	}
	return v, true
}

// allowList is the parsed outbound_allow setting.
type allowList struct {
	prefixes []netip.Prefix
	names    map[string]bool
}

func (g *Guard) allowList(ctx context.Context) (allowList, error) {
	var entries []string
	if g.o.Allow != nil {
		var err error
		if entries, err = g.o.Allow(ctx); err != nil {
			return allowList{}, fmt.Errorf("netguard: read outbound_allow: %w", err)
		}
	}
	return parseAllow(entries), nil
}

// parseAllow parses allow entries; entries that are neither an address nor
// a CIDR are host names. ValidAllowEntry tells which entries make sense.
func parseAllow(entries []string) allowList {
	l := allowList{names: map[string]bool{}}
	for _, e := range entries {
		e = normalizeHost(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			l.prefixes = append(l.prefixes, p.Masked())
			continue
		}
		if a, ok := parseAddr(e); ok {
			l.prefixes = append(l.prefixes, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		l.names[e] = true
	}
	return l
}

// ValidAllowEntry returns why an outbound_allow entry is not an IP address,
// a CIDR or a host name, or nil.
func ValidAllowEntry(e string) error {
	n := normalizeHost(e)
	if n == "" {
		return errors.New("is empty")
	}
	if _, err := netip.ParsePrefix(n); err == nil {
		return nil
	}
	if _, ok := parseAddr(n); ok {
		return nil
	}
	if strings.Contains(n, "/") {
		return fmt.Errorf("%q is not a valid CIDR", e)
	}
	if len(n) > 253 {
		return fmt.Errorf("%q is too long for a host name", e)
	}
	for _, label := range strings.Split(n, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not an IP address, a CIDR or a host name", e)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%q is not an IP address, a CIDR or a host name", e)
			}
		}
	}
	return nil
}

func (l allowList) hasName(h string) bool { return l.names[h] }

func (l allowList) hasAddr(a netip.Addr) bool {
	a = canonical(a)
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			if q, err := p.Addr().Unmap().Prefix(p.Bits() - 96); err == nil && q.Contains(a) {
				return true
			}
		}
	}
	return false
}

// canonical unmaps IPv4-mapped and IPv4-compatible IPv6 addresses, which
// reach the embedded IPv4 address, and drops the zone.
func canonical(a netip.Addr) netip.Addr {
	a = a.WithZone("").Unmap()
	if a.Is6() {
		b := a.As16()
		if [12]byte(b[:12]) == [12]byte{} && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1) {
			return netip.AddrFrom4([4]byte(b[12:]))
		}
	}
	return a
}

// localNets is what of the host an address must not reach.
type localNets struct {
	own    []netip.Addr
	docker []netip.Prefix
}

// zeroNet is 0.0.0.0/8: "this network", which Linux connects to the host.
var zeroNet = netip.MustParsePrefix("0.0.0.0/8")

// blocked says which kind of internal address a is, or "".
func (l localNets) blocked(a netip.Addr) string {
	a = canonical(a)
	switch {
	case !a.IsValid():
		return "an invalid address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsUnspecified() || (a.Is4() && zeroNet.Contains(a)):
		return "an unspecified address (this host)"
	case a.IsLinkLocalUnicast():
		return "a link-local address (cloud metadata services live there)"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, o := range l.own {
		if o == a {
			return "an address of the berth host"
		}
	}
	for _, p := range l.docker {
		if p.Contains(a) {
			return "an address of a Docker network on the berth host"
		}
	}
	return ""
}

func (g *Guard) localNets() (localNets, error) {
	ifs, err := g.o.Interfaces()
	if err != nil {
		return localNets{}, fmt.Errorf("netguard: list interfaces: %w", err)
	}
	var l localNets
	for _, in := range ifs {
		docker := isDockerInterface(in.Name)
		for _, p := range in.Addrs {
			l.own = append(l.own, canonical(p.Addr()))
			if docker {
				l.docker = append(l.docker, p.Masked())
			}
		}
	}
	return l, nil
}

// isDockerInterface reports whether an interface is a bridge Docker
// creates for container networks.
func isDockerInterface(name string) bool {
	return name == "docker0" || name == "docker_gwbridge" || strings.HasPrefix(name, "br-")
}

// cachedInterfaces lists the host's interfaces, at most once per ttl.
func cachedInterfaces(ttl time.Duration) func() ([]Interface, error) {
	var mu sync.Mutex
	var at time.Time
	var cached []Interface
	return func() ([]Interface, error) {
		mu.Lock()
		defer mu.Unlock()
		if cached != nil && time.Since(at) < ttl {
			return cached, nil
		}
		ifs, err := HostInterfaces()
		if err != nil {
			return nil, err
		}
		cached, at = ifs, time.Now()
		return cached, nil
	}
}

// HostInterfaces lists this host's network interfaces and their addresses.
func HostInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs))
	for _, in := range ifs {
		addrs, err := in.Addrs()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", in.Name, err)
		}
		it := Interface{Name: in.Name}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(n.IP)
			if !ok {
				continue
			}
			ones, _ := n.Mask.Size()
			if ip.Is4In6() {
				ip = ip.Unmap()
				if ones >= 96 {
					ones -= 96
				}
			}
			it.Addrs = append(it.Addrs, netip.PrefixFrom(ip, ones))
		}
		out = append(out, it)
	}
	return out, nil
}

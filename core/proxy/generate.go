package proxy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berth-dev/berth/core/pages"
	ptypes "github.com/traefik/paerser/types"
)

// Result is the outcome of Generate.
type Result struct {
	// Config is the dynamic configuration of every valid route. It is never
	// nil; with no valid route it is empty.
	Config *Config
	// Routes lists the IDs of the routes in Config, sorted.
	Routes []string
	// Errors lists the routes left out and why, sorted by route ID.
	Errors []RouteError
}

// RouteError says why a route was left out of the generated configuration.
type RouteError struct {
	// ID is the route's ID as given.
	ID string
	// Err is the reason; it wraps ErrInvalidRoute.
	Err error
}

// Error returns "route <id>: <reason>".
func (e RouteError) Error() string { return fmt.Sprintf("route %q: %v", e.ID, e.Err) }

// Unwrap returns the reason.
func (e RouteError) Unwrap() error { return e.Err }

// Generate builds Traefik's dynamic configuration from s. It is pure and
// deterministic: the same routes in any order give an equal Config, which
// Encode turns into identical bytes.
//
// Each route is validated with ValidateRoute; a route with the same ID as
// another, or claiming a host and path prefix already claimed by a route
// with a smaller ID, is also rejected. Rejected routes are reported in
// Result.Errors and contribute nothing, so they cannot affect other routes.
func Generate(s Snapshot) Result {
	g := generator{
		resolver:  cmp.Or(s.CertResolver, DefaultCertResolver),
		web:       cmp.Or(s.EntryPointWeb, DefaultEntryPointWeb),
		websecure: cmp.Or(s.EntryPointWebSecure, DefaultEntryPointWebSecure),
		http: &HTTPConfig{
			Routers:     map[string]*Router{},
			Services:    map[string]*Service{},
			Middlewares: map[string]*Middleware{},
		},
	}
	res := Result{Config: &Config{}}

	routes := slices.Clone(s.Routes)
	slices.SortStableFunc(routes, func(a, b Route) int { return strings.Compare(a.ID, b.ID) })

	ids := make(map[string]int, len(routes))
	for _, r := range routes {
		ids[r.ID]++
	}
	claimed := make(map[string]string, len(routes)) // host + path prefix -> route ID
	certs := map[Certificate]bool{}
	for _, r := range routes {
		if err := ValidateRoute(r); err != nil {
			res.Errors = append(res.Errors, RouteError{ID: r.ID, Err: err})
			continue
		}
		if ids[r.ID] > 1 {
			res.Errors = append(res.Errors, RouteError{ID: r.ID, Err: &FieldError{Field: "id", Msg: fmt.Sprintf("%q is used by %d routes", r.ID, ids[r.ID])}})
			continue
		}
		host, prefix := strings.ToLower(r.Host), normalizePrefix(r.PathPrefix)
		key := host + prefix
		if owner, ok := claimed[key]; ok {
			res.Errors = append(res.Errors, RouteError{ID: r.ID, Err: &FieldError{Field: "host", Msg: fmt.Sprintf("%q with pathPrefix %q is already routed by route %q", host, prefix, owner)}})
			continue
		}
		claimed[key] = r.ID
		g.route(r, host, prefix)
		if r.TLS == TLSCustom {
			certs[Certificate{CertFile: r.CertFile, KeyFile: r.KeyFile}] = true
		}
		res.Routes = append(res.Routes, r.ID)
	}

	if len(s.APIAllowFrom) > 0 {
		g.http.Routers[APIRouter] = &Router{EntryPoints: []string{EntryPointTraefik}, Rule: "PathPrefix(`/api`)",
			Service: "api@internal", Middlewares: []string{APIRouter + "-allow"}}
		g.http.Routers[MetricsRouter] = &Router{EntryPoints: []string{EntryPointTraefik}, Rule: "PathPrefix(`" + MetricsPath + "`)",
			Service: "prometheus@internal", Middlewares: []string{APIRouter + "-allow"}}
		g.http.Middlewares[APIRouter+"-allow"] = &Middleware{IPAllowList: &IPAllowList{SourceRange: slices.Sorted(slices.Values(s.APIAllowFrom))}}
		for _, p := range s.Probes {
			if err := ValidateProbe(p); err != nil {
				res.Errors = append(res.Errors, RouteError{ID: probeName(p.ID), Err: err})
				continue
			}
			g.probe(p)
		}
	}
	if len(g.http.Routers) > 0 {
		if len(g.http.Middlewares) == 0 {
			g.http.Middlewares = nil
		}
		res.Config.HTTP = g.http
	}
	if len(certs) > 0 {
		res.Config.TLS = &TLSConfig{}
		for c := range certs {
			res.Config.TLS.Certificates = append(res.Config.TLS.Certificates, &c)
		}
		slices.SortFunc(res.Config.TLS.Certificates, func(a, b *Certificate) int {
			return cmp.Or(strings.Compare(a.CertFile, b.CertFile), strings.Compare(a.KeyFile, b.KeyFile))
		})
	}
	slices.SortStableFunc(res.Errors, func(a, b RouteError) int { return strings.Compare(a.ID, b.ID) })
	return res
}

// retryAttempts is how many servers a request may try when connections
// are refused.
const retryAttempts = 4

// APIRouter names the router serving Traefik's own API to berth.
const APIRouter = "berth-traefik-api"

// MetricsRouter names the router serving Traefik's Prometheus metrics to
// berth, on MetricsPath of the traefik entry point, behind the same allow
// list as APIRouter.
const MetricsRouter = "berth-traefik-metrics"

// MetricsPath is the path of Traefik's Prometheus metrics on the traefik
// entry point (see Traefik.MetricsURL).
const MetricsPath = "/metrics"

// generator accumulates the configuration of valid routes.
type generator struct {
	resolver, web, websecure string
	http                     *HTTPConfig
}

// route adds the routers, service and middlewares of one valid route.
func (g *generator) route(r Route, host, prefix string) {
	id := r.ID
	rule := "Host(`" + host + "`)"
	if prefix != "" {
		rule += " && PathPrefix(`" + prefix + "`)"
	}

	var chain []string
	switch c := r.Canary; {
	case r.Maintenance != nil:
		m := r.Maintenance
		g.http.Services[serviceName(id)] = &Service{LoadBalancer: g.maintenanceBalancer(m)}
		g.http.Middlewares[maintenanceName(id)] = &Middleware{Headers: &Headers{CustomRequestHeaders: map[string]string{
			pages.HeaderPage: m.PageBase64, pages.HeaderRetryAfter: strconv.Itoa(m.RetryAfter),
		}}}
		chain = []string{maintenanceName(id)}
	case c != nil && len(r.Addresses) == 0:
		stable, canary := 100-c.Weight, c.Weight
		g.http.Services[stableName(id)] = &Service{LoadBalancer: g.loadBalancer(r)}
		cr := r
		cr.Service = c.Service
		g.http.Services[canaryName(id)] = &Service{LoadBalancer: g.loadBalancer(cr)}
		g.http.Services[serviceName(id)] = &Service{Weighted: &Weighted{Services: []WeightedService{
			{Name: stableName(id), Weight: &stable}, {Name: canaryName(id), Weight: &canary}}}}
		chain = g.middlewares(r, prefix)
	default:
		g.http.Services[serviceName(id)] = &Service{LoadBalancer: g.loadBalancer(r)}
		chain = g.middlewares(r, prefix)
	}

	if r.TLS == "" || r.TLS == TLSNone {
		g.http.Routers[routerHTTPName(id)] = &Router{
			EntryPoints: []string{g.web}, Rule: rule, Middlewares: chain, Service: serviceName(id),
		}
		return
	}

	tls := &RouterTLS{}
	if r.TLS == TLSLetsEncrypt {
		tls.CertResolver = g.resolver
	}
	g.http.Routers[routerHTTPSName(id)] = &Router{
		EntryPoints: []string{g.websecure}, Rule: rule, Middlewares: chain, Service: serviceName(id), TLS: tls,
	}
	plain := &Router{EntryPoints: []string{g.web}, Rule: rule, Middlewares: chain, Service: serviceName(id)}
	if r.RedirectToHTTPS {
		g.http.Middlewares[sharedRedirectHTTPS] = &Middleware{
			RedirectScheme: &RedirectScheme{Scheme: "https", Permanent: true},
		}
		// Traefik wants a service on every router; the redirect answers first.
		plain.Middlewares = []string{sharedRedirectHTTPS}
	}
	g.http.Routers[routerHTTPName(id)] = plain
}

func (g *generator) loadBalancer(r Route) *LoadBalancer {
	passHost := true
	port := strconv.Itoa(r.Port)
	lb := &LoadBalancer{PassHostHeader: &passHost}
	if len(r.Addresses) == 0 {
		lb.Servers = []Server{{URL: "http://tasks." + r.Service + ":" + port}}
	} else {
		addrs := make([]netip.Addr, 0, len(r.Addresses))
		for _, a := range r.Addresses {
			addrs = append(addrs, netip.MustParseAddr(a)) // validated
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		addrs = slices.Compact(addrs)
		for _, a := range addrs {
			lb.Servers = append(lb.Servers, Server{URL: "http://" + netip.AddrPortFrom(a, uint16(r.Port)).String()})
		}
		// While tasks are replaced, a task that exits before berth takes it
		// out of the list is skipped after two failures in a row (which the
		// retry middleware sends elsewhere). At rest the one DNS server must
		// never be marked down, so this applies to explicit lists only.
		lb.PassiveHealthCheck = &PassiveHealthCheck{FailureWindow: ptypes.Duration(3 * time.Second), MaxFailedAttempts: 2}
	}
	if hc := r.HealthCheck; hc != nil {
		lb.HealthCheck = &HealthCheck{
			Path:     hc.Path,
			Interval: ptypes.Duration(hc.Interval),
			Timeout:  ptypes.Duration(hc.Timeout),
		}
	}
	return lb
}

// probe adds the router, header middleware and service of one task probe.
func (g *generator) probe(p Probe) {
	name := probeName(p.ID)
	passHost := false
	g.http.Middlewares[name] = &Middleware{Headers: &Headers{CustomResponseHeaders: map[string]string{ProbeHeader: p.ID}}}
	g.http.Services[name] = &Service{LoadBalancer: &LoadBalancer{PassHostHeader: &passHost,
		Servers: []Server{{URL: "http://" + netip.AddrPortFrom(netip.MustParseAddr(p.Address), uint16(p.Port)).String()}}}}
	g.http.Routers[name] = &Router{EntryPoints: []string{EntryPointTraefik}, Rule: "Host(`" + ProbeHost(p.ID) + "`)",
		Middlewares: []string{APIRouter + "-allow", name}, Service: name}
}

// maintenanceBalancer sends a route in maintenance mode to the page server.
func (g *generator) maintenanceBalancer(m *MaintenanceSpec) *LoadBalancer {
	passHost := true
	return &LoadBalancer{PassHostHeader: &passHost,
		Servers: []Server{{URL: "http://tasks." + m.PagesService + ":" + strconv.Itoa(m.PagesPort)}}}
}

// middlewares adds the route's middlewares and returns them in the order a
// request meets them: redirects, authentication, then path rewriting.
func (g *generator) middlewares(r Route, prefix string) []string {
	var chain []string
	add := func(name string, m *Middleware) {
		g.http.Middlewares[name] = m
		chain = append(chain, name)
	}
	for i, rd := range r.Redirects {
		add(redirectName(r.ID, i), &Middleware{RedirectRegex: &RedirectRegex{
			Regex: rd.Regex, Replacement: rd.Replacement, Permanent: rd.Permanent,
		}})
	}
	if len(r.BasicAuth) > 0 {
		users := slices.Clone(r.BasicAuth)
		slices.Sort(users)
		add(basicAuthName(r.ID), &Middleware{BasicAuth: &BasicAuth{Users: users}})
	}
	if r.StripPrefix {
		add(stripName(r.ID), &Middleware{StripPrefix: &StripPrefix{Prefixes: []string{prefix}}})
	}
	if r.InternalPrefix != "" {
		add(addPrefixName(r.ID), &Middleware{AddPrefix: &AddPrefix{Prefix: r.InternalPrefix}})
	}
	// Last, next to the servers: a task that exited between two
	// configuration updates (a crash during a soak, a restart) refuses the
	// connection, and the request goes to the next server instead.
	add(sharedRetry, &Middleware{Retry: &Retry{Attempts: retryAttempts}})
	return chain
}

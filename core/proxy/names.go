package proxy

import "strconv"

// Traefik object names. Every per-route name is "<route ID>--<suffix>" (or
// the bare ID for the service); route IDs cannot contain "--", so names of
// different routes never collide, and names without "--" are shared ones.
const (
	// sharedRedirectHTTPS is the one middleware every HTTP-to-HTTPS redirect uses.
	sharedRedirectHTTPS = "redirect-to-https"
	nameSep             = "--"
	// sharedRetry is the middleware every route ends with: a request whose
	// connection to a task failed (the task just exited) goes to another.
	sharedRetry = "retry-unreachable"
)

func routerHTTPName(id string) string  { return id + nameSep + "http" }
func routerHTTPSName(id string) string { return id + nameSep + "https" }
func serviceName(id string) string     { return id }
func stripName(id string) string       { return id + nameSep + "strip" }
func addPrefixName(id string) string   { return id + nameSep + "addprefix" }
func basicAuthName(id string) string   { return id + nameSep + "auth" }
func stableName(id string) string      { return id + nameSep + "stable" }
func canaryName(id string) string      { return id + nameSep + "canary" }
func probeName(id string) string       { return "berth-probe" + nameSep + id }
func maintenanceName(id string) string { return id + nameSep + "maintenance" }
func redirectName(id string, i int) string {
	return id + nameSep + "redirect-" + strconv.Itoa(i)
}

// MetricsService returns the value of the "service" label that Traefik's
// metrics give the service of the route with this ID: the service's name
// and its provider, e.g. "blog@file". While the route has a Canary that
// service is a weighted one, which Traefik does not count: use
// StableMetricsService and CanaryMetricsService then.
func MetricsService(routeID string) string { return serviceName(routeID) + providerSuffix }

// StableMetricsService is MetricsService for the stable (current) release
// of a route that has a Canary: Traefik counts a weighted service's
// requests in the services it spreads them over.
func StableMetricsService(routeID string) string { return stableName(routeID) + providerSuffix }

// CanaryMetricsService is MetricsService for the canary release of a route
// that has a Canary.
func CanaryMetricsService(routeID string) string { return canaryName(routeID) + providerSuffix }

// providerSuffix is how Traefik qualifies names from the file provider.
const providerSuffix = "@file"

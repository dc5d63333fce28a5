// Package proxystats reads per-service request counts from Traefik's
// Prometheus metrics and turns them into request counts and error rates
// over time, so a canary release can be judged by the traffic it served.
//
// Traefik counts every request a service answers in
// traefik_service_requests_total{code,method,protocol,service}; Scrape sums
// those counters per service into Counts (all requests, and 5xx
// responses). Counters only grow, so the traffic between two scrapes is
// their difference (Between), and a Window of scrapes answers "what was the
// error rate over the last D" and "has it stayed at most X for the whole
// last D, over at least N requests".
//
// The metrics are served by core/proxy on the traefik entry point
// (proxy.Traefik.MetricsURL); a route's service label is
// proxy.MetricsService(routeID). This package does not import core/proxy.
package proxystats

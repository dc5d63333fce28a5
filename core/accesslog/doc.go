// Package accesslog turns Traefik's JSON access log into request analytics
// per application and domain.
//
// berth's Traefik (core/proxy) writes its access log, and its own log, as
// JSON lines on the container's stdout; Docker's json-file driver keeps at
// most 5 files of 20 MB (proxy.Traefik's container spec), so the log never
// fills the disk. A Follower reads that log through the Docker Engine API
// (ContainerLogs with follow and timestamps) from the position stored in
// PostgreSQL, so a restarted berth neither loses nor counts a line twice,
// and picks up a recreated Traefik container by its name.
//
// Each access line (Parse) names the router that matched it; core/proxy
// names routers "<route id>--<suffix>@file" and core/routing uses a
// domain's id as its route id, so the router names the domain and through
// it the application (Resolver). Lines of no domain (unknown hosts,
// Traefik's API and probes) are ignored.
//
// An Aggregator adds the lines up per minute, application and domain:
// request count, status classes and a fixed latency histogram (Bounds),
// so that p50 and p95 over any range are computed by adding histograms
// (Quantile, BuildSeries). It also keeps the latest requests of each
// application (method, host, path without the query string, status,
// duration, client). The Follower flushes both to PostgreSQL every few
// seconds, or sooner when its bounded buffers fill, in one transaction
// with the log position.
package accesslog

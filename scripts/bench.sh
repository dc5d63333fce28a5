#!/usr/bin/env bash
# bench.sh prints berth's measured figures next to their goals (make bench):
# zero downtime under load during redeploys, deploy latency, route
# propagation, the memory of berth, its PostgreSQL and Traefik, behaviour at
# 1,000 applications, and the plugin host's cold start and warm call. See
# docs/performance.md. It is not part of `make test`, where
# bench/bench_test.go runs a few samples of each so this does not rot.
# Extra arguments go to the bench command (e.g. -quick, -apps 500).
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./bench -berth bin/berth "$@"
echo
echo "== details: Go benchmarks of the proxy configuration at 1,000 applications"
go test -run '^$' -bench . -benchtime 2s ./core/proxy/
echo
echo "== details: metrics range queries on a week of history at 100 applications (docs/metrics.md)"
go test -run '^$' -bench MetricSeries -benchtime 2s ./core/store/

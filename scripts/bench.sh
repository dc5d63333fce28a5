#!/usr/bin/env bash
# bench.sh prints berth's measured figures next to their goals (make bench).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== server: start-up, memory, API latency"
go run ./bench -berth bin/berth
echo "== plugins: cold start and warm call"
go test -run '^$' -bench . -benchtime 2s ./plugins/
echo "== proxy: configuration generation at 1,000 applications"
go test -run '^$' -bench . -benchtime 2s ./core/proxy/

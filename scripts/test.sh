#!/usr/bin/env bash
# test.sh runs berth's whole test suite. Services (Docker, Swarm, Traefik
# image, PostgreSQL binaries) are installed by `make test` before this runs;
# tests that need one fail loudly when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export BERTH_TEST_REQUIRE_SERVICES=1
mkdir -p test-artifacts
make --no-print-directory build
echo "== go test (root module)"
# The JSON events are kept whole in test-artifacts/; the terminal gets each
# package's result, the output of failing tests, and the slowest tests and
# packages (tools/testreport), so the suite's wall time stays visible.
go build -o bin/testreport ./tools/testreport
# Packages start in the order given (go test runs them -p at a time): the
# longest first, so the long end-to-end package does not start last and
# alone (longest-processing-time-first keeps both slots busy to the end).
# Keep the list in step with the "slowest packages" the report prints.
slow_first=(./test/e2e/ ./bench/ ./test/builds/ ./core/backup/ ./core/swarm/ ./core/teardown/ ./test/browser/)
go test -json -p 2 -timeout 50m -count=1 "${slow_first[@]}" ./... 2>&1 | tee test-artifacts/go-test.json | bin/testreport -slowest 30 | tee test-artifacts/go-test.log
if [ -f sdk/go.mod ]; then
  echo "== go test (sdk module)"
  (cd sdk && go test -json -timeout 15m -count=1 ./...) 2>&1 | tee test-artifacts/sdk-test.json | bin/testreport -slowest 10 | tee test-artifacts/sdk-test.log
fi
# Plugins that are Go modules of their own (builders/railpack keeps
# BuildKit out of the root module).
for mod in builders/*/go.mod; do
  [ -f "$mod" ] || continue
  dir=$(dirname "$mod")
  name=$(basename "$dir")
  echo "== go test ($dir module)"
  (cd "$dir" && go test -json -timeout 20m -count=1 ./...) 2>&1 | tee "test-artifacts/$name-test.json" | bin/testreport -slowest 10 | tee "test-artifacts/$name-test.log"
done

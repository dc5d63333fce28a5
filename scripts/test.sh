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
go test -json -p 2 -timeout 50m -count=1 ./... 2>&1 | tee test-artifacts/go-test.json | bin/testreport -slowest 30 | tee test-artifacts/go-test.log
if [ -f sdk/go.mod ]; then
  echo "== go test (sdk module)"
  (cd sdk && go test -json -timeout 15m -count=1 ./...) 2>&1 | tee test-artifacts/sdk-test.json | bin/testreport -slowest 10 | tee test-artifacts/sdk-test.log
fi

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
go test -p 2 -timeout 50m -count=1 ./... 2>&1 | tee test-artifacts/go-test.log
if [ -f sdk/go.mod ]; then
  echo "== go test (sdk module)"
  (cd sdk && go test -timeout 15m -count=1 ./...) 2>&1 | tee test-artifacts/sdk-test.log
fi
for mod in builders/*/go.mod; do
  [ -f "$mod" ] || continue
  dir=$(dirname "$mod")
  echo "== go test ($dir module)"
  (cd "$dir" && go test -timeout 20m -count=1 ./...) 2>&1 | tee "test-artifacts/$(basename "$dir")-test.log"
done

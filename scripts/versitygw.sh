#!/usr/bin/env bash
# versitygw.sh installs versitygw, the S3 server berth's tests run against
# (its posix backend serves a plain directory), into .cache/bin/versitygw
# from the Go module proxy. It does nothing when that version is already
# installed. Tests find the binary there (see test/s3test).
set -euo pipefail
cd "$(dirname "$0")/.."

version="${VERSITYGW_VERSION:-v1.8.0}"
bindir="$(pwd)/.cache/bin"
stamp="${bindir}/.versitygw-version"

if [ -x "${bindir}/versitygw" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
  echo "versitygw: ${version} ready"
  exit 0
fi

command -v go >/dev/null 2>&1 || export PATH="/usr/local/go/bin:$PATH"
echo "versitygw: installing ${version} from the Go module proxy (first time only)"
mkdir -p "$bindir"
# pkg@version installs ignore the current module; clear GOFLAGS so that
# flags meant for berth's own builds (-mod=...) do not get in the way.
GOFLAGS= CGO_ENABLED=0 GOBIN="$bindir" go install "github.com/versity/versitygw/cmd/versitygw@${version}"
printf '%s\n' "$version" > "$stamp"
echo "versitygw: ${version} ready"

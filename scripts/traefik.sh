#!/usr/bin/env bash
# traefik.sh builds the pinned Traefik from the Go module proxy (tools/traefik)
# into a static binary cached under .cache/, then packages it into a local
# image FROM scratch. Both steps are skipped when their output already exists.
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(awk '$1=="github.com/traefik/traefik/v3" {print $2; exit}' tools/traefik/go.mod)
[ -n "$version" ] || { echo "traefik: no pinned version in tools/traefik/go.mod" >&2; exit 1; }
image="berth/traefik:${version}"
out=".cache/traefik/${version}"
bin="${out}/traefik"

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "traefik: ${image} ready"
  exit 0
fi

if [ ! -x "$bin" ]; then
  echo "traefik: building ${version} from the Go module proxy (first time only; ~12 min on 2 cores)"
  mkdir -p "$out"
  (cd tools/traefik && CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${version#v}" \
      -o "../../${bin}.tmp" github.com/traefik/traefik/v3/cmd/traefik)
  mv "${bin}.tmp" "$bin"
fi

if ! docker image inspect "$image" >/dev/null 2>&1; then
  echo "traefik: packaging ${image}"
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$bin" "$ctx/traefik"
  mkdir -p "$ctx/etc/ssl/certs"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    cp /etc/ssl/certs/ca-certificates.crt "$ctx/etc/ssl/certs/"
  else
    : > "$ctx/etc/ssl/certs/ca-certificates.crt"
  fi
  cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY etc/ /etc/
COPY traefik /traefik
ENTRYPOINT ["/traefik"]
DOCKERFILE
  docker build -q -t "$image" "$ctx" >/dev/null
fi
echo "traefik: ${image} ready"

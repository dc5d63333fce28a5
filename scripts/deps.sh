#!/usr/bin/env bash
# deps.sh installs and starts what berth needs on a Debian machine:
# Docker Engine (docker.io), a single-node Swarm, PostgreSQL binaries and git;
# with BERTH_TEST_DEPS=1 (make test) also Chromium, which the dashboard's
# browser tests drive headless, and versitygw, the S3 server the backup
# targets' tests run against (scripts/versitygw.sh, into .cache/bin).
# It is idempotent: running it again only starts what is not running.
set -euo pipefail

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x "$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)" ] || need_pkgs+=(postgresql)
command -v git >/dev/null 2>&1 || need_pkgs+=(git)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
if [ "${BERTH_TEST_DEPS:-0}" = 1 ]; then
  [ -x /usr/bin/chromium ] || need_pkgs+=(chromium fonts-liberation)
fi
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  echo "deps: installing ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
if [ "${BERTH_TEST_DEPS:-0}" = 1 ]; then
  "$(dirname "${BASH_SOURCE[0]}")/versitygw.sh"
fi

# Start dockerd when no engine answers.
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "deps: starting dockerd"
  mkdir -p /var/log
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker || true
  fi
  if ! docker version >/dev/null 2>&1; then
    nohup dockerd >/var/log/berth-dockerd.log 2>&1 &
  fi
  for _ in $(seq 1 120); do
    docker version >/dev/null 2>&1 && break
    sleep 0.5
  done
  docker version >/dev/null 2>&1 || { echo "deps: dockerd did not start; see /var/log/berth-dockerd.log" >&2; exit 1; }
fi

# Single-node Swarm.
state=$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown)
if [ "$state" != "active" ]; then
  echo "deps: initialising single-node swarm"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
fi
echo "deps: docker $(docker version --format '{{.Server.Version}}'), swarm active"

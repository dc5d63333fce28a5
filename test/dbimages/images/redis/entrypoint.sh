#!/usr/bin/env bash
# docker-entrypoint.sh of berth-test/redis: the official redis image's
# contract on Debian's Redis 7.
#
# CMD is the command: `redis-server [CONFIG_FILE] [--option value]...`, e.g.
# `redis-server --requirepass X --appendonly yes`; a first argument that is an
# option or ends in .conf gets redis-server put in front of it. The working
# directory, where RDB and AOF files go, is /data (a volume). redis-server is
# exec'd as PID 1 under user redis with umask 0077, and saves and exits cleanly
# on SIGTERM. Like the official image, whose build turns protected mode off,
# it accepts connections from other hosts without a password; when a config
# file is given, that file decides (Debian's default is protected mode on).
set -Eeuo pipefail

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis:redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$1" = redis-server ]; then
  shift
  if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
    # Options given on the command line come after this one and win.
    set -- redis-server --protected-mode no "$@"
  else
    set -- redis-server "$@"
  fi
  if [ "$(umask)" = 0022 ]; then
    umask 0077
  fi
fi

exec "$@"

#!/usr/bin/env bash
# docker-entrypoint.sh of berth-test/postgres: the official postgres image's
# contract on Debian's PostgreSQL 15.
#
#   POSTGRES_PASSWORD          superuser password; required for a first start
#                              unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER              superuser name (default postgres)
#   POSTGRES_DB                database created at first start (default: the user)
#   POSTGRES_INITDB_ARGS       extra initdb arguments, split on blanks
#   POSTGRES_INITDB_WALDIR     initdb --waldir
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for connections over the network
#                              (default scram-sha-256; the socket and loopback
#                              trust local users, as initdb sets them)
#   PGDATA                     data directory (default /var/lib/postgresql/data)
#   <VAR>_FILE                 POSTGRES_PASSWORD, _USER, _DB and _INITDB_ARGS
#                              read from a file instead (Docker secrets)
#
# initdb runs only when PGDATA holds no cluster; then /docker-entrypoint-initdb.d
# scripts (*.sh, *.sql, *.sql.gz) run against a server listening on the socket
# only. The server is exec'd as PID 1 under user postgres, so SIGINT (the
# image's stop signal) or SIGTERM shuts it down cleanly. Env values never reach
# SQL text: psql substitutes them as quoted identifiers or literals.
set -Eeuo pipefail
shopt -s nullglob

# file_env VAR [DEFAULT] exports VAR from $VAR, or from the file $VAR_FILE names.
file_env() {
  local var=$1 default=${2:-} file_var="${1}_FILE" value
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "error: both $var and $file_var are set (but are exclusive)" >&2
    exit 1
  fi
  value=$default
  if [ -n "${!var:-}" ]; then
    value=${!var}
  elif [ -n "${!file_var:-}" ]; then
    value=$(<"${!file_var}")
  fi
  export "$var=$value"
  unset "$file_var"
}

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
    mkdir -p "$POSTGRES_INITDB_WALDIR"
    find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres:postgres '{}' +
    chmod 700 "$POSTGRES_INITDB_WALDIR"
  fi
  exec setpriv --reuid=postgres --regid=postgres --init-groups \
    env HOME=/var/lib/postgresql "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  case "$auth" in
    scram-sha-256 | md5 | password | trust | reject) ;;
    *)
      echo "error: POSTGRES_HOST_AUTH_METHOD must be one of scram-sha-256, md5, password, trust, reject" >&2
      exit 1
      ;;
  esac
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
    cat >&2 <<'EOM'
error: the database is uninitialized and the superuser password is not set.
       Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) to a non-empty value,
       or POSTGRES_HOST_AUTH_METHOD=trust to allow every connection without one.
EOM
    exit 1
  fi

  read -r -a initdb_args <<<"$POSTGRES_INITDB_ARGS"
  if [ -n "${POSTGRES_INITDB_WALDIR:-}" ]; then
    initdb_args+=(--waldir "$POSTGRES_INITDB_WALDIR")
  fi
  if [ -n "$POSTGRES_PASSWORD" ]; then
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") "${initdb_args[@]}"
  else
    initdb --username="$POSTGRES_USER" "${initdb_args[@]}"
  fi
  {
    printf '\n# berth-test/postgres: every other address\n'
    printf 'host all all all %s\n' "$auth"
  } >>"$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<'EOSQL'
CREATE DATABASE :"db";
EOSQL
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        echo "running $f"
        # shellcheck disable=SC1090 # the image user's own init script
        if [ -x "$f" ]; then "$f"; else . "$f"; fi
        ;;
      *.sql)
        echo "running $f"
        "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f"
        ;;
      *.sql.gz)
        echo "running $f"
        gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB"
        ;;
      *) echo "ignoring $f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "PostgreSQL init process complete; ready for start up."
fi

exec "$@"

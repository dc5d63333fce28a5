#!/usr/bin/env bash
# docker-entrypoint.sh of berth-test/mariadb (and berth-test/mysql:8-compat):
# the official mariadb image's contract on Debian's MariaDB 10.11. Each
# MARIADB_X falls back to MYSQL_X, so the official mysql image's names work too.
#
#   MARIADB_ROOT_PASSWORD               root password (root@localhost and
#                                       root@MARIADB_ROOT_HOST)
#   MARIADB_ALLOW_EMPTY_ROOT_PASSWORD   (MYSQL_ALLOW_EMPTY_PASSWORD) root without a password
#   MARIADB_RANDOM_ROOT_PASSWORD        (MYSQL_RANDOM_ROOT_PASSWORD) generate one, printed once
#                                       One of these three is required for a first start.
#   MARIADB_ROOT_HOST                   host of the network root account (default %)
#   MARIADB_DATABASE                    database created at first start
#   MARIADB_USER, MARIADB_PASSWORD      user@'%' created at first start, granted
#                                       ALL on MARIADB_DATABASE
#   <VAR>_FILE                          any of the above read from a file (Docker secrets)
#
# Initialisation runs only when /var/lib/mysql has no mysql schema; then
# /docker-entrypoint-initdb.d scripts (*.sh, *.sql, *.sql.gz) run against a
# server without networking. The server is exec'd as PID 1 under user mysql
# and shuts down cleanly on SIGTERM. Env values reach SQL only as escaped
# string literals or backquoted identifiers, through the client's stdin in
# binary mode (no client commands), never through argv.
set -Eeuo pipefail
shopt -s nullglob

datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock

# env_value NAME... prints the first set of $NAME or the content of the file
# $NAME_FILE names, trying each NAME in turn.
env_value() {
  local name file_var
  for name in "$@"; do
    file_var="${name}_FILE"
    if [ -n "${!name:-}" ]; then
      printf '%s' "${!name}"
      return
    fi
    if [ -n "${!file_var:-}" ]; then
      printf '%s' "$(<"${!file_var}")"
      return
    fi
  done
}

# sql_string VALUE prints VALUE as a single-quoted SQL string literal, for a
# session whose SQL_MODE lacks NO_BACKSLASH_ESCAPES (set first in every batch).
sql_string() {
  # shellcheck disable=SC1003 # bs is one backslash
  local v=$1 bs='\' q="'" nl=$'\n' cr=$'\r'
  v=${v//"$bs"/"$bs$bs"}
  v=${v//"$q"/"$bs$q"}
  v=${v//"$nl"/"${bs}n"}
  v=${v//"$cr"/"${bs}r"}
  printf "'%s'" "$v"
}

# sql_ident VALUE prints VALUE as a backquoted SQL identifier.
sql_ident() {
  local v=$1 bq='`'
  # shellcheck disable=SC2016 # backquotes, not a command substitution
  printf '`%s`' "${v//"$bq"/"$bq$bq"}"
}

# grant_db VALUE escapes the LIKE wildcards of a database name in a GRANT.
grant_db() {
  # shellcheck disable=SC1003 # bs is one backslash
  local v=$1 bs='\'
  v=${v//"$bs"/"$bs$bs"}
  v=${v//"_"/"${bs}_"}
  v=${v//"%"/"${bs}%"}
  printf '%s' "$v"
}

if [ "${1:0:1}" = '-' ]; then
  set -- mariadbd "$@"
fi
case "$1" in
  mariadbd | mysqld) ;;
  *) exec "$@" ;;
esac

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$datadir" /run/mysqld
  find "$datadir" /run/mysqld \! -user mysql -exec chown mysql:mysql '{}' +
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
fi

if [ ! -d "$datadir/mysql" ]; then
  root_password=$(env_value MARIADB_ROOT_PASSWORD MYSQL_ROOT_PASSWORD)
  allow_empty=$(env_value MARIADB_ALLOW_EMPTY_ROOT_PASSWORD MYSQL_ALLOW_EMPTY_PASSWORD)
  random_root=$(env_value MARIADB_RANDOM_ROOT_PASSWORD MYSQL_RANDOM_ROOT_PASSWORD)
  root_host=$(env_value MARIADB_ROOT_HOST MYSQL_ROOT_HOST)
  root_host=${root_host:-%}
  database=$(env_value MARIADB_DATABASE MYSQL_DATABASE)
  user=$(env_value MARIADB_USER MYSQL_USER)
  password=$(env_value MARIADB_PASSWORD MYSQL_PASSWORD)

  if [ -z "$root_password" ] && [ -z "$allow_empty" ] && [ -z "$random_root" ]; then
    cat >&2 <<'EOM'
error: the database is uninitialized and no root password option is set.
       Set one of MARIADB_ROOT_PASSWORD (MYSQL_ROOT_PASSWORD),
       MARIADB_ALLOW_EMPTY_ROOT_PASSWORD (MYSQL_ALLOW_EMPTY_PASSWORD) or
       MARIADB_RANDOM_ROOT_PASSWORD (MYSQL_RANDOM_ROOT_PASSWORD).
EOM
    exit 1
  fi
  if [ "$user" = root ]; then
    echo "error: MARIADB_USER=root: the root account is set up by MARIADB_ROOT_PASSWORD" >&2
    exit 1
  fi
  if [ -n "$user" ] && [ -z "$password" ]; then
    echo "error: MARIADB_USER is set but MARIADB_PASSWORD is not" >&2
    exit 1
  fi
  if [ -z "$root_password" ] && [ -n "$random_root" ]; then
    root_password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    echo "GENERATED ROOT PASSWORD: $root_password"
  fi

  echo "initialising the database in $datadir"
  mariadb-install-db --datadir="$datadir" --rpm --auth-root-authentication-method=normal \
    --skip-test-db --skip-name-resolve >/dev/null

  mariadbd --skip-networking --socket="$socket" --skip-log-bin \
    --loose-innodb-buffer-pool-load-at-startup=0 --loose-innodb-buffer-pool-dump-at-shutdown=0 &
  pid=$!
  client=(mariadb --protocol=socket --socket="$socket" --user=root --binary-mode --batch --skip-column-names)
  for _ in $(seq 1 120); do
    if "${client[@]}" --execute='SELECT 1' >/dev/null 2>&1; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || {
      echo "error: the bootstrap server exited" >&2
      exit 1
    }
    sleep 0.5
  done

  {
    echo "SET @@SESSION.SQL_MODE=REPLACE(@@SESSION.SQL_MODE, 'NO_BACKSLASH_ESCAPES', '');"
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    # mariadb-install-db leaves password-less root accounts for the loopback
    # addresses and the build host's name: only the two below remain.
    echo "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';"
    printf '%s\n' "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS \\'root\\'@', QUOTE(@@hostname));"
    if [ "$root_host" != localhost ]; then
      echo "CREATE USER 'root'@$(sql_string "$root_host") IDENTIFIED BY $(sql_string "$root_password");"
      echo "GRANT ALL ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
      echo "GRANT PROXY ON ''@'%' TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;"
    fi
    if [ -n "$database" ]; then
      echo "CREATE DATABASE IF NOT EXISTS $(sql_ident "$database");"
    fi
    if [ -n "$user" ]; then
      echo "CREATE USER $(sql_string "$user")@'%' IDENTIFIED BY $(sql_string "$password");"
      if [ -n "$database" ]; then
        echo "GRANT ALL ON $(sql_ident "$(grant_db "$database")").* TO $(sql_string "$user")@'%';"
      fi
    fi
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$root_password");"
  } | "${client[@]}" --database=mysql

  # From here root needs its password; the client reads it from MYSQL_PWD.
  export MYSQL_PWD="$root_password"
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        echo "running $f"
        # shellcheck disable=SC1090 # the image user's own init script
        if [ -x "$f" ]; then "$f"; else . "$f"; fi
        ;;
      *.sql)
        echo "running $f"
        "${client[@]}" ${database:+"--database=$database"} <"$f"
        ;;
      *.sql.gz)
        echo "running $f"
        gunzip -c "$f" | "${client[@]}" ${database:+"--database=$database"}
        ;;
      *) echo "ignoring $f" ;;
    esac
  done
  unset MYSQL_PWD

  kill "$pid"
  wait "$pid"
  echo "MariaDB init process complete; ready for start up."
fi

exec "$@"

#!/usr/bin/env bash
# dbimages.sh builds the local Docker images of PostgreSQL 15, MariaDB 10.11
# and Redis 7 that berth's database and backup tests run. No registry can be
# reached here, so they are made from Debian bookworm packages:
#
#   1. debootstrap --variant=minbase with the three engines included, cleaned,
#      packed into .cache/dbimages/base-<hash>.tar and `docker import`ed as
#      berth-test/dbbase:bookworm-<hash>;
#   2. one small image per engine built FROM that base with the Dockerfile and
#      entrypoint committed under test/dbimages/images/<engine>/, honouring
#      the official postgres, mariadb and redis images' contracts.
#
# Every image carries the label berth.dbimages.hash. The base hash covers the
# build_rootfs recipe below; an engine's hash covers the base hash, the
# build_image recipe and the files of its folder. A rerun with nothing changed
# only inspects four tags. Each engine image is tagged twice: a moving tag
# (berth-test/postgres:15) and a content-addressed one
# (berth-test/postgres:15-<hash>) that stays put while another worktree
# rebuilds the moving tag. The last lines printed, `dbimages: ref NAME=IMAGE`,
# name the content-addressed refs (test/dbimages.Ensure reads them).
set -euo pipefail
cd "$(dirname "$0")/.."

mirror=${DBIMAGES_MIRROR:-http://deb.debian.org/debian}
images_dir=test/dbimages/images
cache="$PWD/.cache/dbimages"
label=berth.dbimages.hash
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

log() { printf 'dbimages: %s\n' "$*"; }

# engine NAME -> "REPO TAG [REPO TAG]..." (first pair is the primary name).
declare -A tags=(
  [postgres]="berth-test/postgres 15"
  [mariadb]="berth-test/mariadb 10.11 berth-test/mysql 8-compat"
  [redis]="berth-test/redis 7"
)
engines=(postgres mariadb redis)

# build_rootfs DIR debootstraps the base system with the three engines into
# DIR and strips what a container never uses. Its text is hashed: edit it and
# the base is rebuilt.
build_rootfs() {
  local dir=$1
  $SUDO env LC_ALL=C debootstrap --variant=minbase --merged-usr \
    --cache-dir="$cache/debs" \
    --include=postgresql,mariadb-server,mariadb-client,redis-server,redis-tools,gzip,ca-certificates \
    bookworm "$dir" "$mirror"
  # No service ran in the chroot (debootstrap blocks invoke-rc.d), but the
  # packages' postinsts made a "main" cluster, a MariaDB datadir and a
  # snakeoil key: the entrypoints initialise fresh data on first start.
  # PostgreSQL's JIT provider and the LLVM it loads (135 MB) go too: without
  # the provider PostgreSQL quietly runs without JIT.
  # The globs expand inside the chroot, as root, against its own paths.
  $SUDO chroot "$dir" sh -euc '
    rm -rf --one-file-system \
      /etc/postgresql/* /var/lib/postgresql/* /var/lib/mysql/* \
      /usr/lib/postgresql/*/lib/llvmjit* /usr/lib/postgresql/*/lib/bitcode \
      /usr/lib/*/libLLVM-*.so* /usr/lib/*/libz3.so* \
      /etc/ssl/private/ssl-cert-snakeoil.key /etc/ssl/certs/ssl-cert-snakeoil.pem \
      /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/lib/apt/lists/* \
      /var/cache/debconf/*-old /var/lib/dpkg/*-old \
      /usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/* \
      /var/log/* /tmp/* /etc/hostname
    : >/etc/resolv.conf'
}

# build_image ENGINE BASE HASH REF... builds test/dbimages/images/ENGINE FROM
# the local BASE image (never pulled) and tags it REF... Its text is hashed.
build_image() {
  local engine=$1 base=$2 hash=$3
  shift 3
  local args=(build --pull=false --build-arg "BASE=$base" --label "$label=$hash")
  local ref
  for ref in "$@"; do args+=(-t "$ref"); done
  docker "${args[@]}" "$images_dir/$engine"
}

sha() { sha256sum | cut -c1-12; }

# hash_dir DIR prints the names, executable bits and content hashes of DIR's
# files (not the other mode bits, which follow each checkout's umask).
hash_dir() {
  local f
  (cd "$1" && find . -type f | LC_ALL=C sort | while IFS= read -r f; do
    printf '%s %s %s\n' "$f" "$([ -x "$f" ] && echo x || echo -)" "$(sha256sum <"$f" | cut -d' ' -f1)"
  done)
}

base_hash=$(declare -f build_rootfs | sha)
base_ref="berth-test/dbbase:bookworm-${base_hash}"
declare -A content_hash refs
for e in "${engines[@]}"; do
  content_hash[$e]=$({ echo "$base_hash"; declare -f build_image; hash_dir "$images_dir/$e"; } | sha)
  read -r -a pairs <<<"${tags[$e]}"
  refs[$e]=""
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    refs[$e]+="${pairs[i]}:${pairs[i + 1]}-${content_hash[$e]} ${pairs[i]}:${pairs[i + 1]} "
  done
done

# ready ENGINE: every tag of ENGINE names an image labelled with its hash.
ready() {
  local ref list
  read -r -a list <<<"${refs[$1]}"
  for ref in "${list[@]}"; do
    [ "$(docker image inspect --format "{{index .Config.Labels \"$label\"}}" "$ref" 2>/dev/null)" = "${content_hash[$1]}" ] || return 1
  done
}

# print_refs prints each engine's content-addressed ref, and the mysql one.
print_refs() {
  local e list
  for e in "${engines[@]}"; do
    read -r -a list <<<"${refs[$e]}"
    log "ref $e=${list[0]}"
    if [ "$e" = mariadb ]; then
      log "ref mysql=${list[2]}"
    fi
  done
}

all_ready() {
  local e
  for e in "${engines[@]}"; do ready "$e" || return 1; done
}

command -v docker >/dev/null 2>&1 || { echo "dbimages: docker is not installed: run \`make deps\`" >&2; exit 1; }
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || { echo "dbimages: Docker Engine is not reachable: run \`make deps\`" >&2; exit 1; }

if all_ready; then
  log "images up to date (base ${base_hash})"
  print_refs
  exit 0
fi

# One build at a time on this Docker Engine, whichever worktree asks.
exec 9>/tmp/berth-dbimages.lock
log "taking the build lock"
flock 9
start=$SECONDS

if ! docker image inspect "$base_ref" >/dev/null 2>&1; then
  tarball="$cache/base-${base_hash}.tar"
  if [ ! -s "$tarball" ]; then
    if ! command -v debootstrap >/dev/null 2>&1; then
      log "installing debootstrap"
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      $SUDO env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq --no-install-recommends \
        debootstrap debian-archive-keyring >/dev/null
    fi
    mkdir -p "$cache/debs"
    rootfs="$cache/rootfs-${base_hash}"
    # A rootfs left by an interrupted run is rebuilt from scratch; nothing
    # mounted inside it may be followed by rm.
    if [ -e "$rootfs" ]; then
      findmnt -rno TARGET | grep -F "$rootfs/" | sort -r | while IFS= read -r m; do $SUDO umount -l "$m"; done
      $SUDO rm -rf --one-file-system "$rootfs"
    fi
    log "debootstrapping bookworm minbase with postgresql, mariadb and redis (first time only; a few minutes)"
    build_rootfs "$rootfs" >"$cache/debootstrap.log" 2>&1 || {
      tail -n 40 "$cache/debootstrap.log" >&2
      echo "dbimages: debootstrap failed; full log in $cache/debootstrap.log" >&2
      exit 1
    }
    log "packing ${tarball#"$PWD"/}"
    $SUDO tar --numeric-owner --one-file-system -C "$rootfs" -cf "$tarball.tmp" \
      --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* .
    mv "$tarball.tmp" "$tarball"
    $SUDO rm -rf --one-file-system "$rootfs"
  fi
  log "importing ${base_ref}"
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["bash"]' \
    "$tarball" "$base_ref" >/dev/null
fi
# Bases of older recipes are no longer needed in this worktree's cache.
find "$cache" -maxdepth 1 -name 'base-*.tar' ! -name "base-${base_hash}.tar" -delete 2>/dev/null || true

for e in "${engines[@]}"; do
  if ready "$e"; then
    log "$e ready"
    continue
  fi
  log "building $e (${refs[$e]% })"
  out=$(mktemp)
  read -r -a list <<<"${refs[$e]}"
  if ! build_image "$e" "$base_ref" "${content_hash[$e]}" "${list[@]}" >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    echo "dbimages: docker build of $e failed" >&2
    exit 1
  fi
  rm -f "$out"
done

for e in "${engines[@]}"; do
  read -r -a list <<<"${refs[$e]}"
  log "$e: ${list[0]} ($(docker image inspect --format '{{.Size}}' "${list[0]}" | awk '{printf "%.0f MB", $1/1e6}'))"
done
log "built in $((SECONDS - start))s"
print_refs

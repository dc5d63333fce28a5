#!/usr/bin/env bash
# plugins.sh builds every plugin binary shipped with berth into bin/plugins:
#
#   builders/<name>          -> bin/plugins/berth-builder-<name>
#   notifiers/<name>         -> bin/plugins/berth-notifier-<name>
#   providers/git/<name>     -> bin/plugins/berth-git-<name>
#   providers/backup/<name>  -> bin/plugins/berth-backup-<name>
#
# With --examples (or BERTH_PLUGIN_EXAMPLES=1) it also builds the SDK's
# example plugins (sdk/examples/<kind> -> bin/plugins/berth-example-<kind>).
# Binaries are static (CGO_ENABLED=0), stripped and reproducible (-trimpath).
# Then generate the index from them:
#
#   go run ./tools/plugindex -o plugin-index.json bin/plugins
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="bin/plugins"
examples="${BERTH_PLUGIN_EXAMPLES:-0}"
for arg in "$@"; do
  case "$arg" in
    --examples) examples=1 ;;
    *) echo "usage: $0 [--examples]" >&2; exit 2 ;;
  esac
done

# name_of DIR prints the binary name of the plugin main package in DIR.
name_of() {
  local rel="${1#"$root"/}"
  case "$rel" in
    builders/*)         echo "berth-builder-${rel#builders/}" ;;
    notifiers/*)        echo "berth-notifier-${rel#notifiers/}" ;;
    providers/git/*)    echo "berth-git-${rel#providers/git/}" ;;
    providers/backup/*) echo "berth-backup-${rel#providers/backup/}" ;;
    sdk/examples/*)     echo "berth-example-${rel#sdk/examples/}" ;;
    *) return 1 ;;
  esac | tr '/' '-'
}

patterns=()
for d in builders notifiers providers; do
  [ -d "$d" ] && patterns+=("./$d/...")
done
dirs=()
if [ "${#patterns[@]}" -gt 0 ]; then
  mapfile -t dirs < <(go list -f '{{if eq .Name "main"}}{{.Dir}}{{end}}' "${patterns[@]}" 2>/dev/null | sed '/^$/d')
fi
if [ "$examples" = "1" ]; then
  for d in sdk/examples/*/; do dirs+=("$root/${d%/}"); done
fi

rm -rf "$out"
mkdir -p "$out"
for dir in "${dirs[@]}"; do
  name="$(name_of "$dir")" || { echo "plugins: skipping $dir (not a plugin folder)" >&2; continue; }
  # Build by import path from the root module: the SDK (its own module)
  # resolves through the root go.mod's replace.
  pkg="github.com/berth-dev/berth/${dir#"$root"/}"
  CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$out/$name" "$pkg"
  echo "plugins: built $out/$name"
done
# Plugins that are Go modules of their own (builders/railpack: BuildKit and
# its dependencies stay out of the root module) are built inside their
# module, which replaces the SDK with ../../sdk.
nested=0
for mod in builders/*/go.mod notifiers/*/go.mod providers/*/*/go.mod; do
  [ -f "$mod" ] || continue
  dir="$root/$(dirname "$mod")"
  name="$(name_of "$dir")" || { echo "plugins: skipping $dir (not a plugin folder)" >&2; continue; }
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$root/$out/$name" .)
  echo "plugins: built $out/$name (module $(dirname "$mod"))"
  nested=$((nested + 1))
done
echo "plugins: $((${#dirs[@]} + nested)) plugin(s) in $out"

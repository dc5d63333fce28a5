#!/usr/bin/env bash
# proto.sh regenerates the Go code of the plugin wire contract
# (sdk/proto/**/*.proto -> sdk/internal/pluginv1) with pinned generators.
#
# protoc comes from Debian's protobuf-compiler (installed when missing);
# protoc-gen-go and protoc-gen-go-grpc are installed from the Go module proxy
# at the versions below into the ignored folder .cache/bin. The generated code
# is committed: run this only after changing a .proto file.
set -euo pipefail

PROTOC_GEN_GO_VERSION=v1.36.12      # google.golang.org/protobuf/cmd/protoc-gen-go
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2   # google.golang.org/grpc/cmd/protoc-gen-go-grpc

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/.cache/bin"
mkdir -p "$bin"

if ! command -v protoc >/dev/null 2>&1; then
  echo "proto: installing protobuf-compiler"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends protobuf-compiler >/dev/null
fi

# install_gen NAME PACKAGE VERSION installs a generator unless the pinned
# version is already there (a stamp file records what was installed).
install_gen() {
  local name="$1" pkg="$2" version="$3" stamp="$bin/.$1.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    return
  fi
  echo "proto: installing $pkg@$version"
  GOBIN="$bin" GOFLAGS=-mod=mod go install "$pkg@$version"
  echo "$version" >"$stamp"
}
install_gen protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go "$PROTOC_GEN_GO_VERSION"
install_gen protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc "$PROTOC_GEN_GO_GRPC_VERSION"

cd "$root/sdk"
mapfile -t protos < <(find proto -name '*.proto' | sort)
PATH="$bin:$PATH" protoc \
  --proto_path=proto \
  --go_out=. --go_opt=module=github.com/berth-dev/berth/sdk \
  --go-grpc_out=. --go-grpc_opt=module=github.com/berth-dev/berth/sdk \
  "${protos[@]}"
echo "proto: generated $(printf '%s ' "${protos[@]}")-> sdk/internal/pluginv1 (protoc $(protoc --version | cut -d' ' -f2), protoc-gen-go $PROTOC_GEN_GO_VERSION, protoc-gen-go-grpc $PROTOC_GEN_GO_GRPC_VERSION)"

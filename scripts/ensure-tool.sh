#!/usr/bin/env bash
# Prints the absolute path of a pinned dev tool in <root>/.tools/bin/, building it
# with Go the first time (or when the pin changes). Progress goes to stderr, only
# the path to stdout, so callers can do: FERRETDB="$(scripts/ensure-tool.sh ferretdb)".
#
#   scripts/ensure-tool.sh ferretdb|grpcurl|ghz
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"

name="${1:-}"
case "$name" in
  ferretdb) module=github.com/FerretDB/FerretDB; package=cmd/ferretdb; version=v1.24.2; version_flag=--version ;;
  grpcurl) module=github.com/fullstorydev/grpcurl; package=cmd/grpcurl; version=v1.9.3; version_flag=-version ;;
  ghz) module=github.com/bojand/ghz; package=cmd/ghz; version=v0.120.0; version_flag=--version ;;
  *)
    echo "usage: $0 ferretdb|grpcurl|ghz" >&2
    exit 2
    ;;
esac

binary="$bin_dir/$name"
stamp="$bin_dir/$name.version"

log() { echo "ensure-tool: $*" >&2; }

# True when the binary on disk is the pinned version. The stamp file makes this a
# file read; without it (a binary built by hand) ask the binary itself. It must
# also exit 0: a panic trace mentions the version in its module cache paths.
is_current() {
  [[ -x "$binary" ]] || return 1
  if [[ -f "$stamp" ]]; then
    [[ "$(<"$stamp")" == "$version" ]]
    return
  fi
  local reported
  reported="$("$binary" "$version_flag" 2>&1)" || return 1
  [[ "$reported" == *"$version"* ]] || return 1
  echo "$version" >"$stamp"
}

# FerretDB reads its version from build/version/version.txt, which `git describe`
# writes and the module zip lacks, so a plain `go install ...@v1.24.2` yields a
# binary that panics at start. Build from a copy of the module with that file.
build_ferretdb() (
  source_dir="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$source_dir" ]] || { log "go mod download $module@$version gave no source dir"; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cp -R "$source_dir/." "$work"
  chmod -R u+w "$work"
  echo "$version" >"$work/build/version/version.txt"
  cd "$work"
  go build -trimpath -o "$binary" "./$package"
)

build() {
  if [[ "$name" == ferretdb ]]; then
    build_ferretdb
  else
    # Release builds set main.version with ldflags; without it `-version` says "dev".
    GOBIN="$bin_dir" go install -trimpath -ldflags "-X main.version=$version" "$module/$package@$version"
  fi
}

mkdir -p "$bin_dir"
cd "$bin_dir" # keep go out of any go.mod the caller happens to stand in
if ! is_current; then
  if ! command -v go >/dev/null; then
    hint="install Go 1.22+ to build $name"
    [[ "$name" == ferretdb ]] && hint="install Go 1.22+ or set MONGO_URL to an existing MongoDB-compatible server"
    echo "ensure-tool: go not found on PATH: $hint" >&2
    exit 1
  fi
  # Two test runs starting at once must not build into the same file.
  if command -v flock >/dev/null; then
    exec 9>"$bin_dir/.$name.lock"
    flock 9
  fi
  if ! is_current; then
    log "building $name $version into $bin_dir (once; from a cold Go cache, minutes: see the README, \"Prerequisites\")"
    rm -f "$stamp"
    build >&2
    echo "$version" >"$stamp"
    log "built $name $version"
  fi
fi

echo "$binary"

#!/usr/bin/env bash
# Build Flux's source-controller and kustomize-controller, pinned in hack/versions.env, from their Go
# modules into the same cache as the control plane, and print the bin directory. It also holds each
# controller's CRDs (config/crd/bases of the same module) under crds/.
#
# A controller's go.mod maps its nested api module with `replace ... => ./api`, which go ignores in a
# dependency, so `go install module@version` refuses it. As hack/build-tools.sh does for Kubernetes,
# the build works on a copy of the module the proxy served: the replace is dropped, so the api module
# resolves to the published tag the controller already requires, and the rest of go.mod is kept.
# Everything is skipped when present, so a warm run costs a few stat calls. A failure names its step.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
. "$here/versions.env"

step="setup"
trap 'echo "[build-flux] FAILED at step: $step" >&2' ERR
log() { printf '[build-flux] %s\n' "$*" >&2; }

cache=${AZBACKUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azbackup}
bin="$cache/bin/flux-source-$FLUX_SOURCE_CONTROLLER_VERSION-kustomize-$FLUX_KUSTOMIZE_CONTROLLER_VERSION-r$FLUX_REVISION"
src="$cache/src"
mkdir -p "$bin/crds" "$src"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
exec 6>"$cache/.build-flux.lock"
flock 6

build() {  # build <controller> <version>
  local name=$1 version=$2 module="github.com/fluxcd/$1"
  [ -x "$bin/$name" ] && [ -f "$bin/crds/.$name" ] && return 0
  step="$name $version: download"
  local start dir w
  start=$(date +%s)
  dir=$(go mod download -json "$module@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
  w="$src/flux-$name-$version"
  if [ ! -f "$w/go.mod" ]; then
    step="$name $version: work copy without the ./api replace"
    rm -rf "$w.tmp" && cp -r "$dir" "$w.tmp" && chmod -R u+w "$w.tmp"
    (cd "$w.tmp" && go mod edit -dropreplace="$module/api")
    mv "$w.tmp" "$w"
  fi
  step="$name $version: go build"
  log "building $name $version"
  (cd "$w" && go build -trimpath -ldflags "-s -w" -o "$bin/$name" .)
  cp "$w"/config/crd/bases/*.yaml "$bin/crds/"
  touch "$bin/crds/.$name"
  log "$name built in $(( $(date +%s) - start ))s"
}

build source-controller "$FLUX_SOURCE_CONTROLLER_VERSION"
build kustomize-controller "$FLUX_KUSTOMIZE_CONTROLLER_VERSION"
echo "$bin"

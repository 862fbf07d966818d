#!/usr/bin/env bash
# Build what a real Kubernetes node needs on this machine, pinned in hack/versions.env, into the same
# cache as the control plane (hack/build-tools.sh), and print the bin directory:
#
#   kubelet, kube-scheduler   the Kubernetes module of the control plane, in a copy of its wrapper module
#                             (most packages are already in GOCACHE from the control-plane build)
#   containerd, containerd-shim-runc-v2, ctr    containerd 2.x from its Go module (no cgo: btrfs left out)
#   runc                      from its Go module, with cgo and libseccomp (Debian libseccomp-dev)
#   pause                     the sandbox binary, from build/pause/linux/pause.c in the Kubernetes module
#   kstatus-<hash>            hack/kstatus: cli-utils' kstatus, as Flux computes health
#
# Every binary is skipped when present, so a warm run costs a few stat calls. A failure names its step.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
. "$here/versions.env"

step="setup"
trap 'echo "[build-node-tools] FAILED at step: $step" >&2' ERR
log() { printf '[build-node-tools] %s\n' "$*" >&2; }

cache=${AZBACKUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azbackup}
bin="$cache/bin/node-k8s-$KUBERNETES_VERSION-containerd-$CONTAINERD_VERSION-runc-$RUNC_VERSION-r$NODE_TOOLS_REVISION"
src="$cache/src"
mkdir -p "$bin" "$src"
export GOTOOLCHAIN=local CGO_ENABLED=0
exec 8>"$cache/.build-node.lock"
flock 8

need() { for b in "$@"; do [ -x "$bin/$b" ] || return 0; done; return 1; }

if need containerd containerd-shim-runc-v2 ctr; then
  step="containerd $CONTAINERD_VERSION"
  start=$(date +%s)
  log "building containerd $CONTAINERD_VERSION"
  m=github.com/containerd/containerd/v2
  GOBIN="$bin" go install -trimpath -ldflags "-s -w -X $m/version.Version=$CONTAINERD_VERSION" \
    "$m/cmd/containerd@$CONTAINERD_VERSION" "$m/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "$m/cmd/ctr@$CONTAINERD_VERSION"
  log "containerd built in $(( $(date +%s) - start ))s"
fi

if need runc; then
  step="runc $RUNC_VERSION (cgo, libseccomp-dev)"
  start=$(date +%s)
  log "building runc $RUNC_VERSION"
  CGO_ENABLED=1 GOBIN="$bin" go install -trimpath -tags seccomp -ldflags "-s -w -X main.version=${RUNC_VERSION#v}" \
    "github.com/opencontainers/runc@$RUNC_VERSION"
  log "runc built in $(( $(date +%s) - start ))s"
fi

# kstatus is the project's own source: the binary is named by the hash of that source.
kstatus_hash=$(cat "$here/kstatus/go.mod" "$here/kstatus/go.sum" "$here/kstatus/main.go" | sha256sum | cut -c1-12)
if need "kstatus-$kstatus_hash"; then
  step="kstatus (hack/kstatus, sigs.k8s.io/cli-utils $CLI_UTILS_VERSION)"
  (cd "$here/kstatus" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$bin/kstatus-$kstatus_hash" .)
fi

# kubelet and kube-scheduler last: they wait for the control-plane build (its wrapper module and GOCACHE).
step="the control-plane tools (hack/build-tools.sh)"
bash "$here/build-tools.sh" >/dev/null

if need kubelet kube-scheduler; then
  step="kubelet and kube-scheduler $KUBERNETES_VERSION"
  start=$(date +%s)
  w="$src/node-k8s-$KUBERNETES_VERSION"
  mkdir -p "$w"
  if [ ! -f "$w/go.mod" ]; then
    # A copy, so the control plane's wrapper (shared with concurrent builds) is never edited.
    cp "$src/k8s-$KUBERNETES_VERSION/go.mod" "$src/k8s-$KUBERNETES_VERSION/go.sum" "$w/"
    (cd "$w" && GOFLAGS=-mod=mod go get -tool "k8s.io/kubernetes/cmd/kubelet@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kube-scheduler@$KUBERNETES_VERSION")
  fi
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags="$ldflags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "building kubelet and kube-scheduler $KUBERNETES_VERSION"
  (cd "$w" && GOFLAGS=-mod=mod go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$bin/" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler)
  log "kubelet and kube-scheduler built in $(( $(date +%s) - start ))s"
fi

if need pause; then
  step="pause $PAUSE_VERSION (gcc -static)"
  kdir=$(cd "$src/node-k8s-$KUBERNETES_VERSION" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-azbackup" -o "$bin/pause.tmp" \
    "$kdir/build/pause/linux/pause.c"
  strip "$bin/pause.tmp" && mv "$bin/pause.tmp" "$bin/pause"
fi

echo "$bin"

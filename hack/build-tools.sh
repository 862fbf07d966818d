#!/usr/bin/env bash
# Build the pinned control-plane binaries (kube-apiserver, kube-controller-manager, kubectl, etcd)
# and helm from their Go modules into a cache outside the repository, and print the bin directory.
#
#   hack/build-tools.sh            build what is missing, print the directory holding all five
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod pins every staging module at v0.0.0 and
# maps it with a `replace` to ./staging, which go ignores in a dependency. A throwaway wrapper module
# requires k8s.io/kubernetes and replaces each staging module with its published v0.X.Y tag instead.
# Every binary is skipped when it is already in the cache, so a warm run costs a few stat calls.
# When KUBEBUILDER_ASSETS is set (as envtest does), binaries found there are used as they are.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
. "$here/versions.env"

cache=${AZBACKUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azbackup}
bin="$cache/bin/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION-r$TOOLS_REVISION"
src="$cache/src"
mkdir -p "$bin" "$src"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
log() { printf '[build-tools] %s\n' "$*" >&2; }

# Binaries from KUBEBUILDER_ASSETS win; link them so one directory holds everything.
if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  for b in etcd kube-apiserver kube-controller-manager kubectl helm; do
    if [ -x "$KUBEBUILDER_ASSETS/$b" ] && [ ! -e "$bin/$b" ]; then
      ln -sf "$KUBEBUILDER_ASSETS/$b" "$bin/$b"
      log "using $KUBEBUILDER_ASSETS/$b"
    fi
  done
fi

need() { for b in "$@"; do [ -x "$bin/$b" ] || return 0; done; return 1; }
lock() {  # serialise concurrent builds of the same cache (two test runs at once)
  exec 9>"$cache/.build.lock"
  flock 9
}
lock

if need kube-apiserver kube-controller-manager kubectl; then
  start=$(date +%s)
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  staging="v0.${KUBERNETES_VERSION#v1.}"
  w="$src/k8s-$KUBERNETES_VERSION"
  mkdir -p "$w"
  cd "$w"
  if [ ! -f go.mod ]; then
    go mod init local.invalid/azbackup-k8s-bins >/dev/null 2>&1
    kmod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    # Copy the tag's own godebug line and turn each staging replace into a published-tag replace.
    go mod edit -json "$kmod" | python3 -c '
import json, sys
mod, staging = json.load(sys.stdin), sys.argv[1]
for r in mod.get("Replace") or []:
    old, new = r["Old"]["Path"], r["New"]["Path"]
    if not new.startswith("./staging/"):
        sys.exit(f"unexpected non-staging replace {old} => {new}")
    print(f"-replace={old}={old}@{staging}")
for g in mod.get("Godebug") or []:
    key, value = g["Key"], g["Value"]
    print(f"-godebug={key}={value}")
if mod.get("Exclude"):
    sys.exit("k8s.io/kubernetes go.mod has exclude lines: copy them into the wrapper by hand")
' "$staging" | xargs go mod edit
    log "resolving k8s.io/kubernetes $KUBERNETES_VERSION (first run downloads ~1 GB of modules)"
    go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBERNETES_VERSION" \
      "k8s.io/kubernetes/cmd/kubectl@$KUBERNETES_VERSION"
  fi
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags="$ldflags -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  log "building kube-apiserver, kube-controller-manager, kubectl $KUBERNETES_VERSION (cold: 10-25 min on 2 cores)"
  go build -trimpath -tags selinux,notest -ldflags "$ldflags" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl
  log "kubernetes built in $(( $(date +%s) - start ))s"
fi

if need etcd; then
  start=$(date +%s)
  # etcd's server module has replace lines too; its own module keeps MVS from raising k8s deps.
  w="$src/etcd-$ETCD_VERSION"
  mkdir -p "$w"
  cd "$w"
  if [ ! -f go.mod ]; then
    go mod init local.invalid/azbackup-etcd-bin >/dev/null 2>&1
    go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  fi
  log "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
    -o "$bin/etcd" go.etcd.io/etcd/server/v3
  log "etcd built in $(( $(date +%s) - start ))s"
fi

if need helm; then
  start=$(date +%s)
  log "building helm $HELM_VERSION"
  # Without the chartutil/lint versions a helm built from source assumes Kubernetes v1.20 for offline
  # `helm template` and `helm lint`, and refuses charts that need a newer cluster.
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  hf="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    hf="$hf -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$minor"
  done
  GOBIN="$bin" go install -trimpath -ldflags "$hf" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  log "helm built in $(( $(date +%s) - start ))s"
fi

echo "$bin"

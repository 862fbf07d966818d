#!/usr/bin/env bash
# Build prometheus and promtool, pinned in hack/versions.env, from their Go module into the same cache as the
# control plane (hack/build-tools.sh), and print the bin directory. Skipped when both are present.
#
# The module has no replace lines, so `go install module/cmd/x@version` works. Build tags:
#   (no builtinassets)   the React UI is not embedded: its assets are built by npm in Prometheus's own release,
#                        not shipped in the module; the tests and the alerts need only the HTTP API, which works
#                        without them (/ then answers 404 for the UI's files).
#   remove_all_sd,enable_kubernetes_sd   service discovery for Kubernetes only (the real-node tests scrape the
#                        operator through its Service's endpoints); the 25 cloud discoverers are left out, which
#                        cuts the build by their SDKs.
#   netgo                the pure-Go resolver, as Prometheus's own release builds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
. "$here/versions.env"

log() { printf '[build-prometheus] %s\n' "$*" >&2; }
cache=${AZBACKUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azbackup}
bin="$cache/bin/prometheus-$PROMETHEUS_MODULE_VERSION-r$PROMETHEUS_REVISION"
mkdir -p "$bin"
export GOTOOLCHAIN=local CGO_ENABLED=0
exec 7>"$cache/.build-prometheus.lock"
flock 7

if [ ! -x "$bin/prometheus" ] || [ ! -x "$bin/promtool" ]; then
  start=$(date +%s)
  m=github.com/prometheus/prometheus
  v=github.com/prometheus/common/version
  log "building prometheus and promtool $PROMETHEUS_VERSION ($m@$PROMETHEUS_MODULE_VERSION)"
  GOBIN="$bin" go install -trimpath -tags netgo,remove_all_sd,enable_kubernetes_sd \
    -ldflags "-s -w -X $v.Version=$PROMETHEUS_VERSION -X $v.Revision=$PROMETHEUS_MODULE_VERSION -X $v.Branch=module" \
    "$m/cmd/prometheus@$PROMETHEUS_MODULE_VERSION" "$m/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
  log "prometheus and promtool built in $(( $(date +%s) - start ))s"
fi

echo "$bin"

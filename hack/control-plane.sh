#!/usr/bin/env bash
# Start a local control plane (etcd, kube-apiserver, kube-controller-manager) on loopback.
#   hack/control-plane.sh start [--dir DIR]      run until Ctrl-C; prints the kubeconfig path
#   hack/control-plane.sh run -- CMD...          start, run CMD with KUBECONFIG set, stop
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py="$root/.venv/bin/python"
[ -x "$py" ] || { make -C "$root" venv >/dev/null; }
exec "$py" -m azbackup.devtools.control_plane "$@"

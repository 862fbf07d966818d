#!/usr/bin/env bash
# A local one-node cluster: the control plane (with a scheduler and every controller) plus a real node
# (kubelet + containerd + runc) on a private bridge, and the operator image built from the Dockerfile.
#   hack/real-node.sh start [--dir DIR]      build what is missing, start, print KUBECONFIG, run until Ctrl-C
#   hack/real-node.sh run -- CMD...          start, run CMD with KUBECONFIG set, stop and clean up
#   hack/real-node.sh cleanup [--all]        undo what killed runs left behind (bridge, iptables rule,
#                                            mounts, cgroups, processes); --all: every run, even live ones
# Needs root.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py="$root/.venv/bin/python"
[ -x "$py" ] || { make -C "$root" venv >/dev/null; }
exec "$py" -m azbackup.devtools.cluster "$@"

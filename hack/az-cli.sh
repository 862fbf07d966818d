#!/usr/bin/env bash
# Install the pinned Azure CLI into its own virtualenv outside the repository, and print its `az`.
#
#   hack/az-cli.sh          create ~/.cache/azbackup/az-venv-<version> when missing, print the az path
#
# azure-cli pins its own azure-mgmt-* and azure-core versions, which clash with the project's, so it
# never goes into .venv. A warm run is a stat call; concurrent runs are serialised with flock.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.env
. "$here/versions.env"

cache=${AZBACKUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azbackup}
venv="$cache/az-venv-$AZURE_CLI_VERSION"
mkdir -p "$cache"
if [ ! -x "$venv/bin/az" ] || [ ! -f "$venv/.installed" ]; then
  exec 9>"$cache/.az-cli.lock"
  flock 9
  if [ ! -f "$venv/.installed" ]; then
    printf '[az-cli] installing azure-cli==%s into %s\n' "$AZURE_CLI_VERSION" "$venv" >&2
    rm -rf "$venv"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "azure-cli==$AZURE_CLI_VERSION"
    touch "$venv/.installed"
  fi
fi
echo "$venv/bin/az"

#!/usr/bin/env bash
# Install Azure's OpenAPI validator (npm `oav`, pinned by package-lock.json here) into a cache outside
# the repository, and print the directory that holds its node_modules.
#
#   hack/oav/install.sh        install when missing (a warm run is one stat call), print the directory
#
# The directory is named after the lock file's hash, so a changed pin installs afresh beside the old.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v npm >/dev/null || { echo "Node.js 20 and npm are required (Azure's validator oav is an npm package)" >&2; exit 1; }
cache=${AZBACKUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azbackup}
dir="$cache/oav/$(sha256sum "$here/package-lock.json" | cut -c1-12)"
if [ ! -f "$dir/node_modules/oav/package.json" ]; then
  mkdir -p "$cache/oav"
  exec 9>"$cache/oav/.install.lock"
  flock 9  # two test runs at once install once
  if [ ! -f "$dir/node_modules/oav/package.json" ]; then
    tmp=$(mktemp -d "$cache/oav/.tmp.XXXXXX")
    cp "$here/package.json" "$here/package-lock.json" "$tmp/"
    (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >&2)
    rm -rf "$dir" && mv "$tmp" "$dir"
  fi
fi
echo "$dir"

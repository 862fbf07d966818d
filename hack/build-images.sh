#!/usr/bin/env bash
# Build the images the real node runs, without Docker or a registry, into ~/.cache/azbackup/images,
# and print them as KEY=VALUE lines:
#
#   PAUSE_ARCHIVE   registry.k8s.io/pause:$PAUSE_VERSION, the static pause binary (hack/build-node-tools.sh)
#   BASE_ARCHIVE    docker.io/library/python:3.11-slim stand-in: Debian bookworm minbase + python3 (3.11)
#                   made by mmdebstrap, because no registry is reachable from the tests' machine
#   IMAGE           localhost/azbackup-operator:dev-<hash of the build context>
#   IMAGE_ARCHIVE   that image, built by `buildah bud` from the repository's Dockerfile unchanged
#
# Each archive is skipped when present; the project image is named by the hash of what the
# Dockerfile copies (pyproject.toml, README.md, operator/, emulator/) and the Dockerfile itself.
# Needs root, mmdebstrap and buildah (Debian packages; hack/deps.py installs them). The base image comes
# from the Debian mirrors of this machine's apt sources (hack/apt_sources.py), or DEBIAN_MIRROR and
# DEBIAN_SECURITY_MIRROR when set. A failure names its step.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=hack/versions.env
. "$here/versions.env"
step="setup"
trap 'echo "[build-images] FAILED at step: $step" >&2' ERR
log() { printf '[build-images] %s\n' "$*" >&2; }

cache=${AZBACKUP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/azbackup}
images="$cache/images"
mkdir -p "$images"
exec 7>"$cache/.build-images.lock"
flock 7
IMAGES_REVISION=1   # bump when the base image's package list or the archive format changes

base="$images/python-3.11-slim-debian-bookworm-r$IMAGES_REVISION.oci.tar"
if [ ! -f "$base" ]; then
  step="base image (mmdebstrap of Debian bookworm with python3)"
  start=$(date +%s)
  # The machine's own mirrors (a company mirror may be its only way out); the variables win.
  mirror=${DEBIAN_MIRROR:-$(python3 "$here/apt_sources.py" archive)}
  security=${DEBIAN_SECURITY_MIRROR:-$(python3 "$here/apt_sources.py" security)}
  tmp=$(mktemp -d "$images/base.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
  log "making the base image with mmdebstrap from $mirror (about 1 min)"
  mmdebstrap --quiet --variant=minbase \
    --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    bookworm "$tmp/rootfs.tar" "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
    "deb $security bookworm-security main"
  python3 "$here/oci_archive.py" -o "$base" --name docker.io/library/python:3.11-slim --layer "$tmp/rootfs.tar" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 --cmd '["python3"]'
  rm -rf "$tmp"; trap - EXIT
  log "base image made in $(( $(date +%s) - start ))s"
fi

step="the node tools (hack/build-node-tools.sh)"
node_bin=$(bash "$here/build-node-tools.sh")
pause="$images/pause-$PAUSE_VERSION-k8s-$KUBERNETES_VERSION-r$IMAGES_REVISION.oci.tar"
if [ ! -f "$pause" ]; then
  step="pause image"
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp "$node_bin/pause" "$tmp/pause"
  tar --owner=0 --group=0 --numeric-owner -C "$tmp" -cf "$tmp/layer.tar" pause
  python3 "$here/oci_archive.py" -o "$pause" --name "registry.k8s.io/pause:$PAUSE_VERSION" \
    --layer "$tmp/layer.tar" --entrypoint '["/pause"]' --user 65535:65535
  rm -rf "$tmp"; trap - EXIT
fi

step="hashing the build context"
context_hash=$(cd "$root" && {
  cat Dockerfile .dockerignore pyproject.toml README.md
  find operator emulator -type f ! -path '*/__pycache__/*' ! -name '*.py[cod]' ! -path '*.egg-info/*' \
    ! -path '*/.mypy_cache/*' ! -path '*/.pytest_cache/*' ! -path '*/.ruff_cache/*' -print0 | sort -z \
    | xargs -0 sha256sum
} | sha256sum | cut -c1-12)
image="localhost/azbackup-operator:dev-$context_hash"
archive="$images/azbackup-operator-dev-$context_hash.oci.tar"
if [ ! -f "$archive" ]; then
  step="buildah bud of the Dockerfile"
  start=$(date +%s)
  B=(buildah --root "$cache/buildah/storage" --runroot /run/azbackup-buildah --storage-driver overlay)
  "${B[@]}" pull --quiet "oci-archive:$base" >/dev/null
  log "building $image from $root/Dockerfile with buildah (about 1 min: pip installs from PyPI)"
  # The host's CA bundle in RUN steps only: machines whose egress goes through a TLS-inspecting proxy
  # need it for pip; it is not part of the image.
  "${B[@]}" bud --quiet --isolation chroot --pull=never --layers=false -f "$root/Dockerfile" -t "$image" \
    --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro "$root" >/dev/null
  step="buildah push of $image to an OCI archive"
  "${B[@]}" push --quiet "$image" "oci-archive:$archive.tmp:$image"
  mv "$archive.tmp" "$archive"
  # Keep the storage small: the archive is what the node imports.
  "${B[@]}" rmi --all --force >/dev/null 2>&1 || true
  log "image built in $(( $(date +%s) - start ))s"
fi

echo "PAUSE_ARCHIVE=$pause"
echo "BASE_ARCHIVE=$base"
echo "IMAGE=$image"
echo "IMAGE_ARCHIVE=$archive"

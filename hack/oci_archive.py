"""Wrap plain tar files as the layers of an OCI image archive (an oci-layout tar), with no registry.

    python3 hack/oci_archive.py -o OUT.tar --name registry.k8s.io/pause:3.10.1 --layer layer.tar \
        --entrypoint '["/pause"]' --user 65535:65535

`ctr images import` names the image after the `io.containerd.image.name` annotation and buildah
reads the archive with `oci-archive:OUT.tar`. Layers stay uncompressed: the archive is read once, locally.
Standard library only, so the host's python3 runs it before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

LAYER = "application/vnd.oci.image.layer.v1.tar"
CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def blob(tar: tarfile.TarFile, media_type: str, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    add_bytes(tar, f"blobs/sha256/{digest}", data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def write_archive(out: Path, name: str, layers: list[Path], image_config: dict[str, Any]) -> None:
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tarfile.open(tmp, "w") as tar:
        add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        layer_descriptors = []
        for layer in layers:
            digest = sha256_file(layer)
            tar.add(layer, arcname=f"blobs/sha256/{digest}")
            layer_descriptors.append({"mediaType": LAYER, "digest": f"sha256:{digest}",
                                      "size": layer.stat().st_size})
        config = {"architecture": "amd64", "os": "linux", "config": image_config,
                  "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in layer_descriptors]},
                  "history": [{"created_by": f"hack/oci_archive.py {layer.name}"} for layer in layers]}
        config_descriptor = blob(tar, CONFIG, json.dumps(config, sort_keys=True).encode())
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_descriptor,
                    "layers": layer_descriptors}
        manifest_descriptor = blob(tar, MANIFEST, json.dumps(manifest, sort_keys=True).encode())
        manifest_descriptor["annotations"] = {"io.containerd.image.name": name,
                                              "org.opencontainers.image.ref.name": name}
        add_bytes(tar, "index.json", json.dumps({"schemaVersion": 2, "manifests": [manifest_descriptor]}).encode())
    shutil.move(tmp, out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.add_argument("--name", required=True, help="full image reference, e.g. docker.io/library/python:3.11-slim")
    p.add_argument("--layer", type=Path, action="append", required=True, help="an uncompressed layer tar")
    p.add_argument("--env", action="append", default=[], help="KEY=VALUE")
    p.add_argument("--entrypoint", help="JSON list")
    p.add_argument("--cmd", help="JSON list")
    p.add_argument("--user")
    args = p.parse_args(argv)
    image_config: dict[str, Any] = {}
    if args.env:
        image_config["Env"] = args.env
    if args.entrypoint:
        image_config["Entrypoint"] = json.loads(args.entrypoint)
    if args.cmd:
        image_config["Cmd"] = json.loads(args.cmd)
    if args.user:
        image_config["User"] = args.user
    write_archive(args.output, args.name, args.layer, image_config)
    return 0


if __name__ == "__main__":
    sys.exit(main())

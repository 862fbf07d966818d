"""GitOps health of live objects as the real tools compute it: Flux's kstatus (hack/kstatus, built from
sigs.k8s.io/cli-utils) and Argo CD's deploy/argocd/health.lua (in Lua 5.1, as gopher-lua runs it)."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lupa import lua51

REPO = Path(__file__).resolve().parents[2]
SCRIPT = (REPO / "deploy" / "argocd" / "health.lua").read_text()
KINDS = ("backupvaults", "backuppolicies", "protectedvms", "vmbackupselectors", "ondemandbackups")
# kstatus -> Argo CD: the same verdict under each tool's name.
AGREEING = {"Current": "Healthy", "InProgress": "Progressing", "Failed": "Degraded"}


def argocd(obj: Mapping[str, Any]) -> dict[str, str]:
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(copy.deepcopy(dict(obj)), recursive=True)
    hs = lua.execute(SCRIPT)
    return {key: hs[key] for key in hs}


def kstatus(binary: Path, objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = subprocess.run([str(binary)], input=json.dumps({"kind": "List", "items": objects}), text=True,
                         capture_output=True, timeout=30)
    assert out.returncode == 0, f"kstatus failed: {out.stderr}"
    return [json.loads(line) for line in out.stdout.splitlines() if line]


def verdicts(binary: Path, objects: list[dict[str, Any]]) -> list[tuple[str, str, str, str, bool]]:
    """(kind, name, kstatus, Argo CD, has status) for each object."""
    flux = kstatus(binary, objects)
    return [(obj["kind"], obj["metadata"]["name"], f["status"], argocd(obj)["status"], bool(obj.get("status")))
            for obj, f in zip(objects, flux, strict=True)]

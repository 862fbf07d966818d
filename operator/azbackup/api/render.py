"""Render what is generated from the kinds' table: the CRD YAML files, and the chart's RBAC for the kinds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from azbackup.api.names import KindName, KubeAccess

HEADER = (
    "# Generated from operator/azbackup/api/crds.py by `azbackup crds --write crds/`. Do not edit:\n"
    "# change the Python and regenerate; a unit test fails when this file and the code disagree.\n"
)
GROUP = "azbackup.dev"


def file_name(crd: Mapping[str, Any]) -> str:
    return f"{crd['metadata']['name']}.yaml"


def render_all(crds: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """File name -> YAML text for every CRD."""
    return {file_name(crd): HEADER + yaml.safe_dump(dict(crd), sort_keys=False, width=100, allow_unicode=True)
            for crd in crds}


def write(directory: Path, crds: Sequence[Mapping[str, Any]]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all(crds).items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def stale_files(directory: Path, crds: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names of CRD files that are missing, differ from the code, or no longer generated."""
    want = render_all(crds)
    have = {p.name: p.read_text() for p in directory.glob("*.yaml")}
    stale = [name for name, text in want.items() if have.get(name) != text]
    stale += [name for name in have if name not in want]
    return sorted(stale)


def _quoted(words: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{w}"' for w in words) + "]"


def _rule(resources: Sequence[str], verbs: Sequence[str]) -> list[str]:
    return [f'- apiGroups: ["{GROUP}"]', f"  resources: {_quoted(resources)}", f"  verbs: {_quoted(verbs)}"]


def rbac_template(kinds: Sequence[KindName], writes: Sequence[KubeAccess], lease_verbs: Sequence[str] = ()) -> str:
    """The chart's named templates of the operator's rules: on its own kinds (included by _helpers.tpl),
    and on the Leases of dynamic shards (`lease_verbs`, what reconcile/leases.py sends)."""
    plurals = [k.plural for k in kinds]
    lines = [
        "{{/* Generated from the kinds' table (operator/azbackup/kinds/__init__.py) by `make crds`. Do not edit:",
        "     a unit test fails when this file and the code disagree. */}}",
        '{{- define "azbackup.kindRules" -}}',
        "# Every kind: kopf lists and watches them, and patches them (finalizers, its progress annotations,",
        "# the operator's create journal); the operator reads one at a time with get.",
        "# No update: kopf and the operator only ever PATCH.",
        *_rule(plurals, ("get", "list", "watch", "patch")),
    ]
    for access in writes:
        lines += [f"# {access.why}", *_rule([access.target.plural], access.verbs)]
    lines += ["# Status (conditions, observedGeneration, checks) is written through the status subresource.",
              *_rule([f"{p}/status" for p in plurals], ("patch",)), "{{- end }}"]
    if lease_verbs:
        lines += ['{{- define "azbackup.shardRules" -}}',
                  "# Dynamic shards: a heartbeat Lease per replica and a Lease per shard, in the release namespace.",
                  '- apiGroups: ["coordination.k8s.io"]', '  resources: ["leases"]',
                  f"  verbs: {_quoted(lease_verbs)}", "{{- end }}"]
    return "\n".join(lines) + "\n"

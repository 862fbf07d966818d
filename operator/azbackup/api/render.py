"""Render the CRDs of `azbackup.api.crds` to YAML files, and compare them with files on disk."""

from __future__ import annotations

from pathlib import Path

import yaml

from azbackup.api import crds

HEADER = (
    "# Generated from operator/azbackup/api/crds.py by `azbackup crds --write crds/`. Do not edit:\n"
    "# change the Python and regenerate; a unit test fails when this file and the code disagree.\n"
)


def file_name(crd: dict[str, object]) -> str:
    meta = crd["metadata"]
    assert isinstance(meta, dict)
    return f"{meta['name']}.yaml"


def render_all() -> dict[str, str]:
    """File name -> YAML text for every CRD."""
    return {
        file_name(crd): HEADER + yaml.safe_dump(crd, sort_keys=False, width=100, allow_unicode=True)
        for crd in crds.all_crds()
    }


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def stale_files(directory: Path) -> list[str]:
    """Names of CRD files that are missing, differ from the code, or no longer generated."""
    want = render_all()
    have = {p.name: p.read_text() for p in directory.glob("*.yaml")}
    stale = [name for name, text in want.items() if have.get(name) != text]
    stale += [name for name in have if name not in want]
    return sorted(stale)

#!/usr/bin/env python3
"""Refresh the emulator's api-version table from a local checkout of Azure/azure-rest-api-specs.

    python3 hack/api_versions.py ~/src/azure-rest-api-specs            # rewrite the data file
    python3 hack/api_versions.py ~/src/azure-rest-api-specs --check    # exit 1 when it would change

For each train of emulator/azure_emulator/data/api-versions.json, `published` becomes the names of the
`stable/` and `preview/` folders under the train's `folders` that hold one of its `files`; `read`, the
checkout's commit and the method are updated. `sdk` and `arm` are kept (they do not come from the specs:
add a version there when a pinned SDK or `az` starts sending it). A shallow sparse clone is enough:

    git clone --depth 1 --filter=blob:none --sparse https://github.com/Azure/azure-rest-api-specs
    git -C azure-rest-api-specs sparse-checkout set specification/compute specification/network \\
        specification/recoveryservices specification/recoveryservicesbackup specification/storage \\
        specification/resources specification/monitor
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "emulator" / "azure_emulator" / "data" / "api-versions.json"
STAGES = ("stable", "preview")


def published(checkout: Path, folders: list[str], files: list[str]) -> list[str]:
    """The version folders under `folders` that hold one of `files` (names compared case-insensitively)."""
    wanted = {f.lower() for f in files}
    found: set[str] = set()
    for folder in folders:
        for stage in STAGES:
            root = checkout / folder / stage
            if not root.is_dir():
                continue
            for version in root.iterdir():
                if version.is_dir() and any(f.name.lower() in wanted for f in version.iterdir()):
                    found.add(version.name)
    return sorted(found)


def refreshed(document: dict[str, Any], checkout: Path) -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    out = json.loads(json.dumps(document))
    out["read"] = datetime.date.today().isoformat()
    out["method"] = f"published: the folders of a checkout at commit {commit or 'unknown'} (hack/api_versions.py)."
    for train in out["trains"].values():
        train["published"] = published(checkout, train["folders"], train["files"])
        train["checked"] = {}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", type=Path, help="a checkout of Azure/azure-rest-api-specs")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 when the table is out of date")
    args = parser.parse_args()
    if not (args.checkout / "specification").is_dir():
        parser.error(f"{args.checkout} has no specification/ folder")
    document = json.loads(DATA.read_text())
    new = refreshed(document, args.checkout)
    for name, train in new["trains"].items():
        before, after = set(document["trains"][name]["published"]), set(train["published"])
        if before != after:
            print(f"{name}: +{sorted(after - before)} -{sorted(before - after)}")
    if args.check:
        same = all(
            set(t["published"]) == set(document["trains"][n]["published"]) for n, t in new["trains"].items()
        )
        return 0 if same else 1
    DATA.write_text(json.dumps(new, indent=1) + "\n")
    print(f"wrote {DATA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

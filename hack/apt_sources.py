#!/usr/bin/env python3
"""The Debian mirror and security mirror this machine's apt already uses, for the base image's mmdebstrap.

    python3 hack/apt_sources.py archive|security [--root /]

Prints one URI. It reads what apt reads: /etc/apt/sources.list and sources.list.d/*.list (one-line
format) and sources.list.d/*.sources (deb822, Debian 12's default), skipping comments, `deb-src` and
disabled entries. The archive is the first entry serving this Debian machine's release (its codename
from /etc/os-release); the security mirror is the first serving `<codename>-security` (or
`<codename>/updates` before Debian 11). Any Debian mirror serves every release, so bookworm for the image
too. A machine behind a company mirror has no other way out, so the repository names no mirror of its
own: none found is an error naming DEBIAN_MIRROR or DEBIAN_SECURITY_MIRROR, which hack/build-images.sh
honours before this.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SCHEMES = ("http://", "https://")  # what mmdebstrap inside the image build can fetch without apt transports


@dataclass(frozen=True)
class Entry:
    """One binary-package source: a URI and the suites apt fetches from it."""

    uri: str
    suites: tuple[str, ...]


def one_line_entries(text: str) -> Iterator[Entry]:
    """`deb [opt=value ...] URI suite [component ...]` lines (sources.list(5), one-line style)."""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        line = re.sub(r"\[[^\]]*\]", " ", line, count=1)  # options such as [arch=amd64 signed-by=...]
        words = line.split()
        if len(words) >= 3 and words[0] == "deb":
            yield Entry(words[1], (words[2],))


def deb822_entries(text: str) -> Iterator[Entry]:
    """Stanzas of `Types:`, `URIs:`, `Suites:` (sources.list(5), deb822 style); `Enabled: no` skips one."""
    for stanza in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t":  # a continuation (a multi-line Signed-By key block)
                fields[key] = f"{fields.get(key, '')} {line.strip()}"
            elif ":" in line:
                key, value = (part.strip() for part in line.split(":", 1))
                key = key.lower()
                fields[key] = value
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(fields.get("suites", "").split())
        for uri in fields.get("uris", "").split():
            yield Entry(uri, suites)


def entries(root: Path) -> list[Entry]:
    """Every enabled `deb` source of the machine under `root`, in apt's order."""
    etc = root / "etc" / "apt"
    found: list[Entry] = []
    if (etc / "sources.list").is_file():
        found += one_line_entries((etc / "sources.list").read_text())
    for path in sorted((etc / "sources.list.d").glob("*")):
        if path.suffix == ".list":
            found += one_line_entries(path.read_text())
        elif path.suffix == ".sources":
            found += deb822_entries(path.read_text())
    return found


def mirror(found: Iterable[Entry], codename: str, kind: str) -> str | None:
    """The first URI serving `codename` (kind "archive") or its security updates (kind "security")."""
    wanted = {codename} if kind == "archive" else {f"{codename}-security", f"{codename}/updates"}
    for entry in found:
        if entry.uri.startswith(SCHEMES) and wanted & set(entry.suites):
            return entry.uri.rstrip("/")
    return None


def debian_codename(root: Path) -> str | None:
    """VERSION_CODENAME of a Debian machine's os-release; None elsewhere (a derivative's mirror has no bookworm)."""
    path = root / "etc" / "os-release"
    if not path.is_file():
        return None
    release = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        release[key] = value.strip().strip('"')
    if release.get("ID") != "debian":
        return None
    return release.get("VERSION_CODENAME") or None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("archive", "security"))
    parser.add_argument("--root", type=Path, default=Path("/"), help="the machine's root (tests use a sample)")
    args = parser.parse_args(argv)
    release = debian_codename(args.root)
    found = mirror(entries(args.root), release, args.kind) if release else None
    if found is None:
        var = "DEBIAN_MIRROR" if args.kind == "archive" else "DEBIAN_SECURITY_MIRROR"
        print(f"no Debian {args.kind} mirror for {release or 'this machine (not Debian, or no VERSION_CODENAME)'} in "
              f"{args.root / 'etc/apt'}: set {var} to the mirror's URI", file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main())

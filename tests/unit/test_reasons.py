"""The reason table in the README is generated from azbackup.reasons, and reasons are stable words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from azbackup import reasons
from azbackup.reasons import Reason

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_carries_the_generated_reason_table() -> None:
    assert reasons.markdown_table() in README.read_text(), (
        "the README's reason table is stale: paste the output of `azbackup reasons` into it")


@pytest.mark.parametrize("reason", list(Reason), ids=lambda r: r.value)
def test_reason_is_a_camel_case_word_with_a_one_line_doc(reason: Reason) -> None:
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", reason.value)
    assert reason.doc
    assert "\n" not in reason.doc


# Reasons no code path emits yet, each with why it is kept. Keep this empty where possible: a reason
# in the README that nothing reports is a promise the operator does not keep.
RESERVED: dict[Reason, str] = {
    Reason.UNMANAGED_DISKS_DEPRECATED: "UnmanagedDisksRetired replaced it when Azure retired unmanaged disks; "
    "kept so that alerts and scripts matching the old reason still parse (renaming a reason is an API change)",
}


def _emitted() -> set[str]:
    package = Path(reasons.__file__).parent
    source = "\n".join(p.read_text() for p in package.rglob("*.py") if p.name != "reasons.py")
    return set(re.findall(r"Reason\.([A-Z][A-Z0-9_]+)", source))


@pytest.mark.parametrize("reason", list(Reason), ids=lambda r: r.value)
def test_every_reason_is_emitted_by_some_code_path_or_reserved(reason: Reason) -> None:
    assert reason.name in _emitted() or reason in RESERVED, (
        f"{reason.value} is in the README's reason table, but no code path reports it: emit it, "
        "remove it, or list it in RESERVED with why")

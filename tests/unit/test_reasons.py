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

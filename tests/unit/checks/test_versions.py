from __future__ import annotations

import pytest
from azbackup.checks import versions


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("2.7.41491.949", (2, 7, 41491, 949), id="four-parts"),
        pytest.param(" 2.2.53 ", (2, 2, 53), id="surrounding-space-is-ignored"),
        pytest.param("Unknown", None, id="Unknown-is-no-version"),
        pytest.param("2..1", None, id="empty-part-is-malformed"),
        pytest.param("2.7.41491.949-beta", None, id="suffix-is-malformed"),
        pytest.param("", None, id="empty-is-no-version"),
        pytest.param(None, None, id="None-is-no-version"),
    ],
)
def test_parse(text: str | None, want: tuple[int, ...] | None) -> None:
    assert versions.parse(text) == want


@pytest.mark.parametrize(
    ("version", "minimum", "want"),
    [
        pytest.param((2, 6, 1198, 718), (2, 6, 1198, 718), True, id="equal-is-enough"),
        pytest.param((2, 6, 1198), (2, 6, 1198, 0), True, id="missing-part-is-zero"),
        pytest.param((2, 6, 1198), (2, 6, 1198, 1), False, id="missing-part-is-below-one"),
        pytest.param((2, 10), (2, 6, 1198, 718), True, id="numeric-not-lexical"),
        pytest.param((3,), (2, 99, 99, 99), True, id="major-decides-first"),
    ],
)
def test_at_least(version: tuple[int, ...], minimum: tuple[int, ...], want: bool) -> None:
    assert versions.at_least(version, minimum) is want

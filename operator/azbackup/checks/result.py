"""The outcome of one prerequisite check, as ProtectedVM status.checks[] reports it."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable

from azbackup.reasons import Reason

from . import facts


class Result(enum.StrEnum):
    PASSED = "Passed"
    FAILED = "Failed"
    WARNING = "Warning"
    UNKNOWN = "Unknown"


@dataclasses.dataclass(frozen=True)
class CheckResult:
    name: str
    result: Result
    reason: Reason
    message: str


def passed(name: str, message: str) -> CheckResult:
    return CheckResult(name, Result.PASSED, Reason.CHECK_PASSED, message)


def failed(name: str, reason: Reason, message: str) -> CheckResult:
    return CheckResult(name, Result.FAILED, reason, message)


def warning(name: str, reason: Reason, message: str) -> CheckResult:
    return CheckResult(name, Result.WARNING, reason, message)


def unknown(name: str, message: str, reason: Reason = Reason.FACT_UNAVAILABLE) -> CheckResult:
    return CheckResult(name, Result.UNKNOWN, reason, message)


@dataclasses.dataclass(frozen=True)
class Check:
    """A named check; `blocks` says whether its Failed result stops protection (a Warning never does)."""

    name: str
    blocks: bool
    run: Callable[[facts.VMFacts, facts.CheckContext], CheckResult]

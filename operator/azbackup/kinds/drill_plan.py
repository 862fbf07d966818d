"""The pure parts of a RestoreDrill: its schedule, which VMs a run drills, and what a run proves.

The schedule is cron in a time zone, read by cronsim (DST-aware, a well-kept library) rather than by a
hand parser. A run drills a sample of the targets, least recently drilled first (never-drilled before
all), so every VM is drilled over time whatever the sample size. A run's evidence per VM: the restored
point's age when the run started (achieved RPO) and the restore job's duration plus the time the VM
took to run with its agent Ready (achieved RTO); the run's figures are the worst of its VMs.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cronsim import CronSim, CronSimError

from azbackup.api import status as api_status

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
          "@daily": "0 0 * * *", "@hourly": "0 * * * *"}


class ScheduleError(ValueError):
    """The cron expression or the time zone cannot be read."""


def parse_duration(text: str | None) -> float | None:
    """Seconds of a Go-style duration (`90s`, `30m`, `1h30m`); None for None."""
    if text is None:
        return None
    m = _DURATION.fullmatch(text.strip())
    if not m or not any(m.groups()):
        raise ValueError(f"not a duration: {text!r}")
    hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def format_duration(seconds: float | None) -> str | None:
    """`6h2m`, `4m10s`, `35s`: the largest two units, as people read a duration."""
    if seconds is None:
        return None
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m{secs}s" if secs else f"{minutes}m"
    return f"{secs}s"


@dataclass(frozen=True)
class Schedule:
    expression: str
    zone: zoneinfo.ZoneInfo

    @classmethod
    def parse(cls, expression: str, time_zone: str = "UTC") -> Schedule:
        try:
            zone = zoneinfo.ZoneInfo(time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ScheduleError(f"unknown time zone {time_zone!r}") from exc
        expr = MACROS.get(expression.strip(), expression.strip())
        schedule = cls(expr, zone)
        schedule.after(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # reads the expression once
        return schedule

    def after(self, moment: dt.datetime) -> dt.datetime:
        """The first schedule time strictly after `moment` (in UTC)."""
        local = moment.astimezone(self.zone).replace(microsecond=0)
        try:
            return next(CronSim(self.expression, local)).astimezone(dt.UTC)
        except CronSimError as exc:
            raise ScheduleError(f"cannot read the cron schedule {self.expression!r}: {exc}") from exc
        except StopIteration as exc:
            raise ScheduleError(f"the cron schedule {self.expression!r} never fires") from exc

    def due(self, last: dt.datetime, now: dt.datetime) -> dt.datetime | None:
        """The latest schedule time in (last, now], or None. Missed runs are not made up one by one:
        after a long outage, one run stands for all of them (like a CronJob's single catch-up)."""
        fire = self.after(last)
        if fire > now:
            return None
        for _ in range(10000):
            following = self.after(fire)
            if following > now:
                break
            fire = following
        return fire


def sample(candidates: Iterable[str], last_drilled: Mapping[str, str], size: int) -> list[str]:
    """`size` targets, least recently drilled first (never drilled before all; ties by name)."""
    ordered = sorted(set(candidates), key=lambda name: (last_drilled.get(name, ""), name))
    return ordered[:max(0, size)]


RunPhase = api_status.RunPhase  # a run's state machine: restore every target, then clean up, then done
Result = api_status.Result  # a run's, or one drilled VM's, result


DECIDED = (Result.PASSED, Result.FAILED)


@dataclass(frozen=True)
class Verdict:
    result: Result
    rpo: float | None  # worst achieved RPO of the run (seconds)
    rto: float | None  # worst achieved RTO of the run (seconds)
    objectives_met: bool
    missed: tuple[str, ...]  # what was missed, in words


def judge(targets: Sequence[Mapping[str, object]], rpo_objective: float | None,
          rto_objective: float | None) -> Verdict:
    """A finished run: Passed when every VM passed; objectives judged on the worst achieved figures."""
    def worst(key: str) -> float | None:
        values = [float(v) for t in targets if isinstance(v := t.get(key), (int, float))]
        return max(values) if values else None

    rpo, rto = worst("rpoSeconds"), worst("rtoSeconds")
    passed = bool(targets) and all(t.get("result") == Result.PASSED for t in targets)
    missed: list[str] = []
    if rpo_objective is not None and rpo is not None and rpo > rpo_objective:
        missed.append(f"achieved RPO {format_duration(rpo)} exceeds the objective {format_duration(rpo_objective)}")
    if rto_objective is not None and rto is not None and rto > rto_objective:
        missed.append(f"achieved RTO {format_duration(rto)} exceeds the objective {format_duration(rto_objective)}")
    if rto_objective is not None and rto is None and targets:
        missed.append("no VM was restored and verified, so no RTO was achieved")
    return Verdict(Result.PASSED if passed else Result.FAILED, rpo, rto, not missed, tuple(missed))

"""Azure Monitor's Activity Log: `ActivityLogs_List` (monitor `Microsoft.Insights/stable/2015-04-01/
activityLogs_API.json`), the entries of one subscription that are visible now, newest first.

Errors of the route itself are the spec's `ErrorResponse` (`{code, message}`, no `error` envelope);
ARM's own refusals (token, throttling, api-version) keep ARM's envelope as on every route.
"""

from __future__ import annotations

import urllib.parse

from azure_emulator import activity_log
from azure_emulator.arm.base import Call, Reply, Route, route

PATH = "/subscriptions/{sub}/providers/microsoft.insights/eventtypes/management/values"
#: Azure's answer to a `$filter` outside the spec's patterns (reported in MicrosoftDocs/feedback#319)
BAD_FILTER = {"code": "BadRequest", "message": "$filter searching parameters invalid"}


def _token(text: str | None, now: float) -> tuple[int, float] | None:
    """`$skiptoken` = `{offset}-{as-of in ms}`: later pages see the log as the first page saw it."""
    if not text:
        return 0, now
    offset, _, as_of = text.partition("-")
    if not (offset.isdigit() and as_of.isdigit()):
        return None
    return int(offset), int(as_of) / 1000


def list_events(call: Call) -> Reply:
    sub = call.sub()
    try:
        query = activity_log.parse_filter(call.q("$filter"))
    except activity_log.FilterError:
        return Reply(400, dict(BAD_FILTER))
    position = _token(call.q("$skiptoken"), call.now)
    if position is None:
        return Reply(400, {"code": "BadRequest", "message": f"Invalid $skiptoken '{call.q('$skiptoken')}'."})
    offset, as_of = position
    events = call.state.activity.query(sub.id, query, as_of)
    size = call.state.settings.page_size
    chosen = call.q("$select")
    body: dict[str, object] = {
        "value": [activity_log.select(e.to_json(), chosen) for e in events[offset : offset + size]]
    }
    if offset + size < len(events):
        rest = {k: v for k, v in call.query.items() if k not in ("$skiptoken", "api-version")}
        rest["$skiptoken"] = f"{offset + size}-{round(as_of * 1000)}"
        encoded = "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in rest.items())  # `$` as Azure writes it
        body["nextLink"] = f"{call.base}{call.raw_path}?api-version={call.api_version}&{encoded}"
    return Reply(200, body)


ROUTES: list[Route] = [
    route("GET", PATH, "ActivityLogs_List", "Microsoft.Insights/eventtypes/values/read", list_events),
]

"""An opt-in recorder of the ARM traffic an emulator serves, in the format of Azure's validator (`oav`).

Each served ARM request becomes one JSON line `{"liveRequest", "liveResponse", "operation"}`:
`liveRequest` = `{url, method, headers, body}`, `liveResponse` = `{statusCode (a string), headers, body}`
(oav's `RequestResponsePair`), `operation` = the emulator's route name (the spec operationId), so the
validator can check that oav matched the same operation. `hack/oav/validate-traffic.js` validates the
files against Azure's OpenAPI specs.

Enabled by the environment variable `AZURE_EMULATOR_TRAFFIC_DIR` (a directory; each emulator instance
appends to its own file there), which child processes inherit, so `make test` covers the emulators of
every test. Every route is covered: the recorder sits in the ARM dispatch, not in the handlers.

Identical exchanges are recorded once: a pair is written only when its *shape* is new for its
operation and status (the key paths and JSON types of both bodies, with the values of enum-like
strings), so a suite that lists 5000 VMs records a few pages, not 25 per call.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

ENV = "AZURE_EMULATOR_TRAFFIC_DIR"
#: a string that reads as an enum value (`Succeeded`, `AzureIaasVM`), not a name, id, time or message
_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,48}$")
#: request headers oav reads (content type); the bearer token and client details stay out of the file
_REQUEST_HEADERS = ("content-type", "x-ms-client-request-id")
_counter = itertools.count()


def _shape(value: object, path: str = "") -> Iterator[str]:
    """Key paths with JSON types, and the values of enum-like strings (list elements share `[]`)."""
    if isinstance(value, dict):
        yield f"{path}{{}}"
        for k, v in value.items():
            yield from _shape(v, f"{path}.{k}")
    elif isinstance(value, list):
        yield f"{path}[]"
        for v in value:
            yield from _shape(v, f"{path}[]")
    elif isinstance(value, str):
        yield f"{path}={value}" if _TOKEN.match(value) else f"{path}:str"
    else:
        yield f"{path}:{type(value).__name__}"


def signature(operation: str, status: int, request_body: object, response_body: object) -> str:
    text = "\n".join(sorted({*_shape(request_body, "q"), *_shape(response_body, "r")}))
    return hashlib.sha1(f"{operation} {status}\n{text}".encode()).hexdigest()


def _json_or_none(raw: bytes) -> object:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class TrafficRecorder:
    """Appends new-shaped request/response pairs to `{directory}/traffic-{pid}-{n}.jsonl`."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / f"traffic-{os.getpid()}-{next(_counter)}.jsonl"
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.recorded = 0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> TrafficRecorder | None:
        directory = (environ if environ is not None else os.environ).get(ENV, "").strip()
        return cls(directory) if directory else None

    def record(
        self,
        *,
        operation: str,
        url: str,
        method: str,
        request_headers: Mapping[str, str],
        request_body: bytes,
        status: int,
        response_headers: Mapping[str, str],
        response_body: bytes,
    ) -> None:
        request_json = _json_or_none(request_body)
        response_json = _json_or_none(response_body)
        key = signature(operation, status, request_json, response_json)
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
            pair = {
                "operation": operation,
                "liveRequest": {
                    "url": url,
                    "method": method.upper(),
                    "headers": {k: v for k, v in request_headers.items() if k.lower() in _REQUEST_HEADERS},
                    "body": request_json,
                },
                "liveResponse": {
                    "statusCode": str(status),
                    "headers": dict(response_headers),
                    "body": response_json,
                },
            }
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(pair) + "\n")
            self.recorded += 1

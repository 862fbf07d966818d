"""Logging: a human format by default, JSON lines with --log-format json; secrets are redacted."""

from __future__ import annotations

import json
import logging
import re

_SECRETS = re.compile(
    r"(?i)(client_secret|client_assertion|access_token|refresh_token|password|AZURE_CLIENT_SECRET)"
    r"(['\"]?\s*[=:]\s*['\"]?)[^&\s'\",}]+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact(text: str) -> str:
    return _BEARER.sub(r"\1***", _SECRETS.sub(r"\1\2***", text))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                   "logger": record.name, "message": redact(record.getMessage())}
        for key in ("k8s_skip", "object"):
            if hasattr(record, key):
                payload[key] = str(getattr(record, key))
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(payload)


def setup(fmt: str = "text", verbose: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         RedactingFormatter("[%(asctime)s] %(name)-22.22s [%(levelname)-7.7s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("azure", "urllib3", "kubernetes", "msal", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:
        # kopf logs every handler success at INFO: at thousands of objects that drowns what matters.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)

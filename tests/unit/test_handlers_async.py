"""Every kopf handler the operator registers is a coroutine function.

kopf runs a plain `def` handler in its thread pool. The registry and the vault workers live on the
event loop and take no locks, so a handler in a thread would race them (a 5000-object apply burst
raised "dictionary changed size during iteration" and lost the events).
"""

from __future__ import annotations

import inspect

import azbackup.controllers  # noqa: F401  (registers the handlers)
import kopf


def registered_handlers() -> list[object]:
    registry = kopf.get_default_registry()
    handlers: list[object] = []
    for part in vars(registry).values():
        if hasattr(part, "get_all_handlers"):
            handlers.extend(h.fn for h in part.get_all_handlers())
    return handlers


def test_every_operator_handler_runs_on_the_event_loop() -> None:
    ours = [fn for fn in registered_handlers() if getattr(fn, "__module__", "").startswith("azbackup.")]
    assert len(ours) >= 25  # five kinds, each with event, change, annotation and delete handlers
    in_threads = [fn.__qualname__ for fn in ours if not inspect.iscoroutinefunction(fn)]
    assert in_threads == []

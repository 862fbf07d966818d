"""Give freed heap back to the operating system after a burst of work.

A fleet read or a thousand objects arriving at once allocate and free a lot; glibc keeps the freed
pages, so the resident size would stay at the burst's peak for the life of the process. Trimming when
a vault's queue runs empty returns them; trimming now and then during a long burst keeps its peak down.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time

_libc: ctypes.CDLL | None = None
_tried = False
_last_trim = 0.0
_last_collect = 0.0


def trim(every: float = 30.0, collect_every: float = 30.0) -> None:
    """glibc's malloc_trim(0) at most every `every` s, after a gc.collect() at most every
    `collect_every` s. A full collection of a 5000-object operator takes a few hundred ms, so a busy
    operator collects less often than it trims."""
    global _libc, _tried, _last_trim, _last_collect
    now = time.monotonic()
    if now - _last_trim < every:
        return
    _last_trim = now
    if now - _last_collect >= collect_every:
        _last_collect = now
        gc.collect()
    if not _tried:
        _tried = True
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name) if name else None
    if _libc is not None and hasattr(_libc, "malloc_trim"):
        _libc.malloc_trim(0)

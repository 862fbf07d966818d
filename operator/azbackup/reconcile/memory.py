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
_last = 0.0


def trim(min_interval: float = 30.0) -> None:
    """gc.collect() and glibc's malloc_trim(0), unless the last trim was less than `min_interval` s ago."""
    global _libc, _tried, _last
    now = time.monotonic()
    if now - _last < min_interval:
        return
    _last = now
    gc.collect()
    if not _tried:
        _tried = True
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name) if name else None
    if _libc is not None and hasattr(_libc, "malloc_trim"):
        _libc.malloc_trim(0)

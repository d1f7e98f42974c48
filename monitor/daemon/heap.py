"""The heap policy: after each refresh, collect cyclic garbage and give freed heap pages back to the OS.

A refresh over a large ledger allocates and frees tens of MB (query rows, the metric families, the
rendered text); glibc keeps freed pages mapped, so without a trim the daemon's RSS stays at the
refresh's peak. Measured in docs/BENCHMARKS.md ("Scrape vs ledger size").
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None where the C library has none (musl, macOS, Windows)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()


def trim_heap() -> None:
    """Collect cyclic garbage first (exception tracebacks, frames), so its pages can go too, then
    hand the free pages at the top and in the middle of the heap back to the OS."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)

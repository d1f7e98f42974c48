"""The heap policy: one malloc arena for every thread, and after each poll and each refresh, cyclic
garbage collected and freed heap pages given back to the OS.

A poll parses tens of MB of pages and a refresh over a large ledger allocates and frees tens of MB
(query rows, the metric families, the rendered text); glibc keeps freed pages mapped, so without a
trim the daemon's RSS stays at the last peak. glibc also gives each thread that allocates its own
arena (up to 8 per core), each keeping its own freed pages: with the poll jobs, the refresh and the
delivery on threads of their own, that held ~17 MB more between polls in `make soak`. The threads
take turns under the GIL anyway, so one arena costs no parallelism. Measured in docs/BENCHMARKS.md
("Scrape vs ledger size", "Issue 15 item 4").
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable

M_ARENA_MAX = -8
"""mallopt's parameter number for the most arenas (glibc's malloc.h)."""


def _libc_function(name: str) -> Callable[..., int] | None:
    """A glibc function by name, or None where the C library has none (musl, macOS, Windows)."""
    try:
        found: Callable[..., int] = getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError, TypeError):
        return None
    return found


_MALLOC_TRIM = _libc_function("malloc_trim")
_MALLOPT = _libc_function("mallopt")


def one_arena() -> None:
    """Make threads started from now on allocate from the main arena (call before starting them)."""
    if _MALLOPT is not None:
        _MALLOPT(M_ARENA_MAX, 1)


def trim_heap() -> None:
    """Collect cyclic garbage first (exception tracebacks, frames), so its pages can go too, then
    hand the free pages at the top and in the middle of the heap back to the OS."""
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)

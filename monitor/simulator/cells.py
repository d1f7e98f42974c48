"""Arithmetic on the simulator's cells: the share of an hour seen so far, one minute of an hour,
sums over the dims an endpoint groups by, and the small bounded cache the books keep answers in."""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from monitor.simulator.generate import Cell, Counts


class Lru:
    """A small thread-safe LRU map; `weigh` bounds the total size (entries count 1 each by default)."""

    def __init__(self, budget: int, weigh: Callable[[Any], int] = lambda _: 1) -> None:
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._budget, self._weigh, self._used = budget, weigh, 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Any, value: Any) -> Any:
        weight = self._weigh(value)
        with self._lock:
            old = self._items.pop(key, None)
            self._used += weight - (old[1] if old else 0)
            self._items[key] = (value, weight)
            while self._used > self._budget and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._used -= dropped
        return value


def partial_count(n: int, elapsed: int) -> int:
    """The share of an hour's count `n` used in its first `elapsed` seconds (consistent with minutes)."""
    k, s = divmod(elapsed, 60)
    q, r = divmod(n, 60)
    return k * q + min(k, r) + (q + (k < r)) * s // 60


def minute_count(n: int, index: int, elapsed: int) -> int:
    """Minute `index` of an hour's count `n`, of which `elapsed` seconds have passed."""
    q, r = divmod(n, 60)
    full = q + (index < r)
    start = index * 60
    if elapsed >= start + 60:
        return full
    return full * max(0, elapsed - start) // 60


def aggregate(cells: Sequence[Cell], keep: tuple[bool, ...]) -> list[tuple[tuple[Any, ...], Counts]]:
    """Sum cells over the dims not kept; returns (full-length dims with None where not kept, counts)."""
    kept = [i for i, k in enumerate(keep) if k]
    if len(kept) == len(keep):
        sums: dict[Any, Counts] = {}
        for dims, counts in cells:
            old = sums.get(dims)
            sums[dims] = counts if old is None else tuple(map(operator.add, old, counts))
        return list(sums.items())
    pick: Callable[[tuple[Any, ...]], Any] = (
        operator.itemgetter(*kept) if len(kept) > 1 else (lambda d: (d[kept[0]],)) if kept else (lambda d: ())
    )
    grouped: dict[Any, Counts] = {}
    for dims, counts in cells:
        key = pick(dims)
        old = grouped.get(key)
        grouped[key] = counts if old is None else tuple(map(operator.add, old, counts))
    rows = []
    for key, counts in grouped.items():
        full: list[Any] = [None] * len(keep)
        for i, value in zip(kept, key, strict=True):
            full[i] = value
        rows.append((tuple(full), counts))
    return rows

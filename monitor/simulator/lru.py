"""A small thread-safe LRU map bounded by total weight: the simulator's caches of what can no longer
change (an hour's truth, grouped buckets, cost lines, rendered JSON)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


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

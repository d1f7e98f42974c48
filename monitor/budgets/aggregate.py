"""Summing the shared daily spend table per budget: period spend, and the daily series for its forecast.

Per cycle each combination's period sums are computed once, and its recent days (forecast
history plus today) are packed into one big integer with 128-bit lanes, so adding the series of
hundreds of combinations for a scope is hundreds of integer additions, not hundreds of list
additions. Lanes hold non-negative picodollars below 2**63 (costs are never negative); a
combination with a negative day or a day past int64 is added lane by lane instead. Equal scopes
share one sum.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Sequence

from monitor.budgets.scopes import ScopeKey, ScopeMatcher
from monitor.budgets.spend import Combo, DailySpend

LANE_BITS = 128
if sys.byteorder != "little":  # pragma: no cover - pack() lays out machine words as little-endian lanes
    raise ImportError("monitor.budgets.aggregate needs a little-endian machine")
_MASK = (1 << LANE_BITS) - 1

DayRange = tuple[int, int]
"""[first, end) local epoch days: a budget's current period."""

BudgetSums = tuple[int, list[int], int]
"""(period spend, complete history days oldest first, today's spend so far), picodollars."""


def pack(values: Sequence[int]) -> int | None:
    """The values as 128-bit lanes of one integer (lane i = values[i]); None if any is negative or
    past int64.

    Each value (< 2**63) fills the low 8 bytes of its 16-byte lane; the high 8 stay zero as headroom
    for the sums.
    """
    if not values:
        return 0
    if min(values) < 0:
        return None
    lanes = array("q", bytes(16 * len(values)))
    try:
        lanes[0::2] = values if isinstance(values, array) else array("q", values)
    except OverflowError:
        return None
    return int.from_bytes(lanes.tobytes(), "little")


def unpack(packed: int, lanes: int) -> list[int]:
    return [(packed >> (LANE_BITS * i)) & _MASK for i in range(lanes)]


class Aggregator:
    """Per-budget sums over a DailySpend table, cached until the table or the question changes."""

    def __init__(
        self, daily: DailySpend, attribute: Callable[[Combo], tuple[str, str]] | None = None
    ) -> None:
        self.daily = daily
        self.matcher = ScopeMatcher(attribute)
        self._cache_key: object = None
        self._cache: list[BudgetSums] = []

    def run(
        self, keys: Sequence[ScopeKey], ranges: Sequence[DayRange], *, history_from: int, today: int
    ) -> list[BudgetSums]:
        """For each budget (scope key and period day range, in order): its sums."""
        d = self.daily
        cache_key = (d.generation, id(d.cost), tuple(keys), tuple(ranges), history_from, today, d.first_day)
        if cache_key == self._cache_key:
            return self._cache
        self.matcher.update(set(keys), d.cost.keys())
        ranges_of: dict[ScopeKey, set[DayRange]] = {}
        for key, day_range in zip(keys, ranges, strict=True):
            ranges_of.setdefault(key, set()).add(day_range)
        all_ranges = {r for rs in ranges_of.values() for r in rs}
        lanes = max(0, today - history_from + 1)
        h_off, t_off = history_from - d.first_day, today - d.first_day + 1
        range_offsets = {
            r: (max(r[0] - d.first_day, 0), max(min(r[1], d.last_day + 1) - d.first_day, 0))
            for r in all_ranges
        }
        per_combo: dict[Combo, tuple[dict[DayRange, int], int | None, list[int]]] = {}
        for combo, values in d.cost.items():
            sums = {r: sum(values[a:b]) for r, (a, b) in range_offsets.items()}
            recent = list(values[h_off:t_off]) if lanes else []
            per_combo[combo] = (sums, pack(recent), recent)
        per_scope: dict[ScopeKey, tuple[dict[DayRange, int], list[int]]] = {}
        for key, wanted in ranges_of.items():
            totals = dict.fromkeys(wanted, 0)
            packed_total = 0
            loose = [0] * lanes
            for combo in self.matcher.combos_of(key):
                entry = per_combo.get(combo)
                if entry is None:  # left the window
                    continue
                sums, packed, recent = entry
                for r in wanted:
                    totals[r] += sums[r]
                if packed is not None:
                    packed_total += packed
                else:
                    loose = [a + b for a, b in zip(loose, recent, strict=True)]
            series = [a + b for a, b in zip(unpack(packed_total, lanes), loose, strict=True)]
            per_scope[key] = (totals, series)
        result: list[BudgetSums] = []
        for key, day_range in zip(keys, ranges, strict=True):
            totals, series = per_scope[key]
            result.append((totals[day_range], series[:-1], series[-1] if series else 0))
        self._cache_key, self._cache = cache_key, result
        return result

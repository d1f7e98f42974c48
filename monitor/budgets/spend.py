"""Spend per (provider, account, project, model, api_key, user) per local day, kept in sync with the ledger cheaply.

All budgets share one table of daily spend over a window (the earliest current period start or
28 days of forecast history, whichever is earlier), so 1,000 budgets cost one grouped query, not
1,000. On a 10M-row ledger even that query reads a million rows, so after the first load the
table is updated incrementally:

1. the ledger's `totals` table (cumulative rows and cost per key, maintained exactly by the store
   in the same transaction as every write, repricing included) says which combinations changed;
2. only the recent "hot" days (today, yesterday, and back to the oldest bucket re-observed since
   the last sync) are re-read, grouped by combination and day;
3. for each changed combination the change seen in the hot days must equal the change of its
   totals (rows and cost); where it does not (a backfill or reprice of older days) that
   combination's whole window is re-read.

So the result always equals a fresh grouped query (the tests compare them), at the cost of the
hot days only. Per-day costs are int64 arrays; a combination whose day passes int64 (about $9.2M)
is kept as a list of Python integers instead, so no sum overflows.
"""

from __future__ import annotations

import logging
import sys
from array import array
from collections.abc import Callable, Iterable, MutableSequence, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

from monitor.budgets.days import DAY, day_start, epoch_day, from_epoch_day, local_date
from monitor.store import Ledger

log = logging.getLogger(__name__)

Combo = tuple[str, str, str, str, str, str]
"""(provider, account, project, model, api_key, user): the dimensions budget scopes select on."""

DIMS: tuple[str, ...] = ("provider", "account", "project", "model", "api_key", "user")
_RELOAD_CHUNK = 150
_RELOAD_ALL_ABOVE = 300
"""Re-read the whole window at once when more combinations than this need a reload."""

K = TypeVar("K")
Days = MutableSequence[int]
"""A value per day: an int64 array, or a list where a value passes int64."""


def _zeros(n: int) -> array[int]:
    return array("q", bytes(8 * n))


def _add(values: Days, index: int, amount: int) -> Days:
    """values[index] += amount; returns `values`, or a list copy of it when an int64 would overflow."""
    try:
        values[index] += amount
    except OverflowError:
        values = list(values)
        values[index] += amount
    return values


def _assign(target: Days, offset: int, source: Days) -> Days:
    """target[offset:offset + len(source)] = source; a list copy of target when source is a list."""
    if isinstance(target, array) and not isinstance(source, array):
        target = list(target)
    target[offset : offset + len(source)] = source
    return target


class DailySpend:
    """Daily spend arrays per combination over [first_day, last_day] (local epoch days), synced by `sync`."""

    def __init__(self, tz: ZoneInfo, *, hot_days: int = 2) -> None:
        self.tz = tz
        self.hot_days = hot_days
        self.first_day = 0
        self.last_day = -1
        self.cost: dict[Combo, Days] = {}
        self.rows: dict[Combo, Days] = {}
        self.fingerprints: dict[Combo, tuple[int, int]] = {}
        self.source: object = None
        self.observed_at = -1
        self.generation = 0
        """Bumped whenever any value changes, so callers can cache derived results."""
        self.stats = {"full": 0, "hot": 0, "reloaded": 0, "unchanged": 0}
        self._combos: dict[Combo, Combo] = {}

    @property
    def ndays(self) -> int:
        return self.last_day - self.first_day + 1

    def sync(self, ledger: Ledger, first_day: int, today: int, *, source: object) -> None:
        """Bring the arrays up to date for the window [first_day, today] of the ledger `source`."""
        fingerprints = _fingerprints(ledger, self.fingerprints, self._canonical)
        observed_at, oldest_changed = ledger.observed_since(self.observed_at)
        if source != self.source or (not self.cost and not self.fingerprints) or first_day < self.first_day:
            self._full_load(ledger, first_day, today, fingerprints)
            self.source = source
            self.observed_at = observed_at
            return
        self._slide(first_day, today)
        changed = [
            c
            for c in fingerprints.keys() | self.fingerprints.keys()
            if fingerprints.get(c, (0, 0)) != self.fingerprints.get(c, (0, 0))
        ]
        self.observed_at = observed_at
        if not changed:
            self.stats["unchanged"] += 1
            return
        hot_first = today - self.hot_days + 1
        if oldest_changed is not None:
            hot_first = min(hot_first, epoch_day(local_date(oldest_changed, self.tz)))
        hot_first = max(hot_first, self.first_day)
        hot = self._read(ledger, hot_first)
        self.stats["hot"] += 1
        mismatched = []
        offset = hot_first - self.first_day
        width = self.last_day - hot_first + 1
        for combo in changed:
            new_cost, new_rows = hot.get(combo, (_zeros(width), _zeros(width)))
            old_cost, old_rows = self.cost.get(combo), self.rows.get(combo)
            before = (
                (sum(old_rows[offset:]), sum(old_cost[offset:]))
                if old_cost is not None and old_rows is not None
                else (0, 0)
            )
            was, now = self.fingerprints.get(combo, (0, 0)), fingerprints.get(combo, (0, 0))
            if (now[0] - was[0], now[1] - was[1]) != (sum(new_rows) - before[0], sum(new_cost) - before[1]):
                mismatched.append(combo)
                continue
            self._store_slice(combo, offset, new_cost, new_rows)
        if mismatched:
            self._reload(ledger, mismatched, fingerprints)
        self.fingerprints = fingerprints
        self.generation += 1

    def covers(self, first_day: int, end_day: int) -> bool:
        """Whether the table holds all usage of the local days [first_day, end_day): it has been
        loaded and starts early enough (it holds every row from its first day on, days after its
        last one included: the table widens for rows dated in the future)."""
        return self.source is not None and self.first_day <= first_day < end_day

    def sums_by(self, first_day: int, end_day: int, key: Callable[[Combo], K]) -> dict[K, tuple[int, int]]:
        """(picodollars, usage rows) per `key(combo)` over the local days [first_day, end_day), for the
        combinations with rows there: what a grouped query over those days gives, from memory."""
        a = max(first_day - self.first_day, 0)
        b = max(min(end_day, self.last_day + 1) - self.first_day, 0)
        result: dict[K, tuple[int, int]] = {}
        for combo, cost in self.cost.items():
            rows = sum(self.rows[combo][a:b])
            if rows:
                k = key(combo)
                before_cost, before_rows = result.get(k, (0, 0))
                result[k] = (before_cost + sum(cost[a:b]), before_rows + rows)
        return result

    # -- internals ---------------------------------------------------------------------------

    def _full_load(
        self, ledger: Ledger, first_day: int, today: int, fingerprints: dict[Combo, tuple[int, int]]
    ) -> None:
        self.first_day, self.last_day = first_day, today
        self.cost, self.rows = {}, {}
        for combo, (cost, rows) in self._read(ledger, first_day).items():
            if len(cost) == self.ndays and any(rows):  # kept as read: no copy (what _store_slice does)
                self.cost[combo], self.rows[combo] = cost, rows
            else:
                self._store_slice(combo, 0, cost, rows)
        self.fingerprints = fingerprints
        self.generation += 1
        self.stats["full"] += 1
        log.debug("budgets: loaded %d combinations over %d days", len(self.cost), self.ndays)

    def _reload(
        self, ledger: Ledger, combos: Sequence[Combo], fingerprints: dict[Combo, tuple[int, int]]
    ) -> None:
        """Re-read the whole window of some combinations (older days changed behind the hot window)."""
        self.stats["reloaded"] += len(combos)
        if len(combos) > _RELOAD_ALL_ABOVE:
            self._full_load(ledger, self.first_day, self.last_day, fingerprints)
            return
        for combo in combos:
            self.cost.pop(combo, None)
            self.rows.pop(combo, None)
        for i in range(0, len(combos), _RELOAD_CHUNK):
            chunk = combos[i : i + _RELOAD_CHUNK]
            for combo, (cost, rows) in self._read(ledger, self.first_day, chunk).items():
                self._store_slice(combo, 0, cost, rows)

    def _slide(self, first_day: int, today: int) -> None:
        """Drop days before `first_day` and add empty days up to `today`."""
        drop = first_day - self.first_day
        grow = max(0, today - self.last_day)
        if drop <= 0 and grow == 0:
            return
        for series in (self.cost, self.rows):
            for values in series.values():
                if drop > 0:
                    del values[:drop]
                if grow:
                    values.extend(_zeros(grow))
        self.first_day = max(first_day, self.first_day)
        self.last_day = max(today, self.last_day)

    def _canonical(self, combo: Combo) -> Combo:
        """The one tuple kept for `combo` (with interned label strings), shared by the arrays' and
        the fingerprints' keys: 12,000 combinations repeat a few hundred distinct label values.
        Combinations are never forgotten: the ledger's `totals` keeps every one it has seen too."""
        known = self._combos.get(combo)
        if known is None:
            p, a, pr, m, k, u = combo
            known = (
                sys.intern(p),
                sys.intern(a),
                sys.intern(pr),
                sys.intern(m),
                sys.intern(k),
                sys.intern(u),
            )
            self._combos[known] = known
        return known

    def _store_slice(self, combo: Combo, offset: int, cost: Days, rows: Days) -> None:
        if combo not in self.cost:
            if not any(rows):
                return
            self.cost[combo] = _zeros(self.ndays)
            self.rows[combo] = _zeros(self.ndays)
        end = offset + len(cost)
        if end > self.ndays:  # rows dated after today (clock skew): widen every array
            self._slide(self.first_day, self.first_day + end - 1)
        self.cost[combo] = _assign(self.cost[combo], offset, cost)
        self.rows[combo][offset:end] = rows

    def _read(
        self, ledger: Ledger, from_day: int, combos: Iterable[Combo] | None = None
    ) -> dict[Combo, list[Days]]:
        """Grouped spend and row counts per combination and local day from `from_day` on."""
        lo = day_start_of(from_day, self.tz)
        hi = day_start_of(self.last_day + 2, self.tz)
        only = None if combos is None else list(combos)
        width = max(self.last_day - from_day + 1, 1)
        result: dict[Combo, list[Days]] = {}
        # Streamed, not listed: the window holds ~300k (combination, day) groups on a large
        # ledger, and a list of them all would pin ~100 MB of heap arenas after it is freed.
        for dims, day, cost, count in ledger.spend_per_local_day(
            DIMS, since=lo, until=hi, tz=self.tz, only=only
        ):
            index = day - from_day
            if index < 0:
                continue
            combo: Combo = dims  # type: ignore[assignment]  # six values, DIMS order
            entry = result.get(combo)
            if entry is None:
                combo = self._canonical(combo)
                entry = result[combo] = [_zeros(width), _zeros(width)]
            if index >= len(entry[0]):
                grow = index + 1 - len(entry[0])
                for values in entry:
                    values.extend(_zeros(grow))
            if cost:
                entry[0] = _add(entry[0], index, cost)
            entry[1][index] += count
        return result


def day_start_of(day: int, tz: ZoneInfo) -> int:
    """Unix seconds of the start of local epoch day `day`."""
    return day_start(from_epoch_day(day), tz)


def _fingerprints(
    ledger: Ledger, previous: dict[Combo, tuple[int, int]], canonical: Callable[[Combo], Combo]
) -> dict[Combo, tuple[int, int]]:
    """(rows, cost) per combination over all time, from the store's exact `totals` table.

    Keys are the `canonical` combinations and values equal to `previous` ones are those very
    tuples: the table is rebuilt on every sync, and fresh copies of 12,000 unchanged entries,
    allocated among the sync's short-lived objects, would keep that many heap pages in use."""
    result: dict[Combo, tuple[int, int]] = {}
    for (p, a, pr, k, m, _tier, u), n, c in ledger.cost_per_key():
        if n:
            combo = canonical((p, a, pr, m, k, u))
            rows, cost = result.get(combo, (0, 0))
            result[combo] = (rows + n, cost + c)
    for combo, value in result.items():
        old = previous.get(combo)
        if old is not None and old == value:
            result[combo] = old
    return result


__all__ = ["DAY", "DIMS", "Combo", "DailySpend", "day_start_of"]

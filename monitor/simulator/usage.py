"""What the simulated providers report at a given moment: hour states, bucket widths, grouping.

The truth of an hour is generated once (generate.py); what the API shows of it depends on `now`:
nothing before history starts or after `now`; a proportional share while the hour is open; nothing
for a "late" hour until 3 h after it closes; slightly more for a "revised" hour from 1-2 h after it
closes. Minute buckets split an hour evenly (remainder in the first minutes); day buckets add 24 hours.
Everything whose answer can no longer change is cached (bounded). The cost lines of the hours are
cost_lines.py's.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from monitor.simulator.cost_lines import CostLines
from monitor.simulator.generate import (
    DAY,
    ENDPOINTS,
    HOUR,
    Cell,
    Counts,
    anthropic_messages,
    openai_completions,
    openai_embeddings,
)
from monitor.simulator.layout import Layout, unit
from monitor.simulator.lru import Lru
from monitor.simulator.prices import PriceBook

LATE_DELAY = 3 * HOUR
"""A late hour appears this long after it closes."""

Filter = tuple[tuple[int, frozenset[Any]], ...]
"""(dims index, allowed values) pairs; a cell passes when every listed dim is allowed."""


def _partial(n: int, elapsed: int) -> int:
    """The share of an hour's count `n` used in its first `elapsed` seconds (consistent with minutes)."""
    k, s = divmod(elapsed, 60)
    q, r = divmod(n, 60)
    return k * q + min(k, r) + (q + (k < r)) * s // 60


def _minute(n: int, index: int, elapsed: int) -> int:
    """Minute `index` of an hour's count `n`, of which `elapsed` seconds have passed."""
    q, r = divmod(n, 60)
    full = q + (index < r)
    start = index * 60
    if elapsed >= start + 60:
        return full
    return full * max(0, elapsed - start) // 60


def _nonzero(cells: list[Cell]) -> list[Cell]:
    return [cell for cell in cells if any(cell[1])]


class SimulatedUsage:
    """The simulated providers' books: hour truth, its visibility over time, aggregation; costs in `costs`."""

    def __init__(
        self,
        *,
        seed: int,
        history_start: int,
        scale: float,
        layouts: dict[str, Layout],
        embedding_model: str,
        book: PriceBook,
        late_buckets: bool,
        revisions: bool,
        extra_token_types: bool,
        openai_long_prompts: bool = False,
    ) -> None:
        self.seed, self.history_start, self.scale = seed, history_start, scale
        self.layouts, self.embedding_model = layouts, embedding_model
        self.late_buckets, self.revisions, self.extra = late_buckets, revisions, extra_token_types
        self.long_prompts = openai_long_prompts
        self._truth = Lru(8192)
        self._groups = Lru(4096)
        self.rendered = Lru(256 * 2**20, len)
        """Rendered JSON of stable buckets, for the API modules (bounded to 256 MiB)."""
        self.directories: dict[str, Any] = {}
        """provider -> its SimDirectory (set by Simulator), served by directory_api.py."""
        self.extra_lines: dict[tuple[str, int], list[dict[str, Any]]] = {}
        """(provider, day start) -> cost results served as they are, after the day's own (tests)."""
        self.costs = CostLines(book, self)
        """The hours' cost lines, priced from `book` (cost_lines.py)."""

    # ---- the hour's truth and its visibility ----------------------------------------------------------

    def truth(self, endpoint: str, hour: int) -> tuple[Cell, ...]:
        """Every cell of the hour as it will finally be reported (before any revision)."""
        cells = self._truth.get((endpoint, hour))
        if cells is None:
            provider = endpoint.split(":", maxsplit=1)[0]
            layout = self.layouts[provider]
            if endpoint == "openai:completions":
                made = openai_completions(
                    layout, self.seed, hour, self.scale, self.extra, long_prompts=self.long_prompts
                )
            elif endpoint == "openai:embeddings":
                made = openai_embeddings(layout, self.seed, hour, self.scale, self.embedding_model)
            else:
                made = anthropic_messages(layout, self.seed, hour, self.scale)
            cells = self._truth.put((endpoint, hour), tuple(made))
        return cells  # type: ignore[no-any-return]

    def state(self, provider: str, hour: int, now: int) -> tuple[str, int]:
        """("none" | "partial" | "final" | "revised", seconds elapsed) of an hour as seen at `now`."""
        end = hour + HOUR
        if hour < self.history_start or hour >= now:
            return ("none", 0)
        if self.late_buckets and unit(self.seed, provider, "late", hour) < 0.1 and now < end + LATE_DELAY:
            return ("none", 0)
        if now < end:
            return ("partial", now - hour)
        if self.revisions:
            draw = unit(self.seed, provider, "revision", hour)
            if draw < 0.2 and now >= end + HOUR + int(draw * 5 * HOUR):
                return ("revised", 0)
        return ("final", 0)

    def hour_cells(self, endpoint: str, hour: int, now: int) -> Sequence[Cell]:
        """The cells of an hour bucket as the API reports them at `now`."""
        state, elapsed = self.state(endpoint.split(":", maxsplit=1)[0], hour, now)
        if state == "none":
            return ()
        if state == "partial":
            return _nonzero(
                [(d, tuple(_partial(n, elapsed) for n in c)) for d, c in self.truth(endpoint, hour)]
            )
        if state == "revised":
            revised = self._truth.get((endpoint, hour, "revised"))
            if revised is None:
                cells = tuple((d, self._revise(endpoint, hour, d, c)) for d, c in self.truth(endpoint, hour))
                revised = self._truth.put((endpoint, hour, "revised"), cells)
            return revised  # type: ignore[no-any-return]
        return self.truth(endpoint, hour)

    def _revise(self, endpoint: str, hour: int, dims: tuple[Any, ...], counts: Counts) -> Counts:
        """A small upward revision (1-5% of every non-zero count, at least 1)."""
        percent = 1 + int(unit(self.seed, endpoint, "revise", hour, dims) * 5)
        return tuple(n + max(1, n * percent // 100) if n else 0 for n in counts)

    def bucket_cells(self, endpoint: str, start: int, width: int, now: int) -> list[Cell]:
        """The cells of any bucket (1m, 1h or 1d); a day's cells repeat dims across its hours."""
        if width == HOUR:
            return list(self.hour_cells(endpoint, start, now))
        if width == DAY:
            return [
                cell
                for hour in range(start, start + DAY, HOUR)
                for cell in self.hour_cells(endpoint, hour, now)
            ]
        hour, index = start - start % HOUR, (start % HOUR) // 60
        provider = endpoint.split(":", maxsplit=1)[0]
        state, elapsed = self.state(provider, hour, now)
        if state == "none":
            return []
        source = self.truth(endpoint, hour) if state == "partial" else self.hour_cells(endpoint, hour, now)
        elapsed = elapsed if state == "partial" else HOUR
        return _nonzero([(d, tuple(_minute(n, index, elapsed) for n in c)) for d, c in source])

    def signature(self, provider: str, start: int, width: int, now: int) -> tuple[str, ...] | None:
        """The states a bucket depends on, or None while it can still change (contains the open hour)."""
        hours = range(start, start + width, HOUR) if width >= HOUR else [start - start % HOUR]
        states = tuple(self.state(provider, hour, now)[0] for hour in hours)
        return None if "partial" in states else states

    # ---- grouping ---------------------------------------------------------------------------------------

    def grouped(
        self, endpoint: str, start: int, width: int, now: int, *, keep: tuple[bool, ...], where: Filter = ()
    ) -> list[tuple[tuple[Any, ...], Counts]]:
        """A bucket's rows aggregated over the dims not kept (which become None), in generation order."""
        signature = None if where else self.signature(endpoint.split(":", maxsplit=1)[0], start, width, now)
        cache_key = (endpoint, start, width, keep, signature)
        if signature is not None:
            cached = self._groups.get(cache_key)
            if cached is not None:
                return cached  # type: ignore[no-any-return]
        cells = self.bucket_cells(endpoint, start, width, now)
        if where:
            cells = [c for c in cells if all(c[0][i] in allowed for i, allowed in where)]
        rows = aggregate(cells, keep)
        if signature is not None:
            self._groups.put(cache_key, rows)
        return rows

    def cells_between(
        self, provider: str, start: int, end: int, now: int, endpoint: str | None = None
    ) -> Iterator[tuple[str, int, Cell]]:
        """(endpoint, hour, cell) of every hour starting in [start, end), as reported at `now`."""
        first = max(-(-start // HOUR) * HOUR, self.history_start)
        for hour in range(first, min(end, now), HOUR):
            for name in ENDPOINTS[provider]:
                if endpoint is None or name.endswith(":" + endpoint):
                    for cell in self.hour_cells(name, hour, now):
                        yield name, hour, cell


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

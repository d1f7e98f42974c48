"""Exact sums of picodollar columns past SQLite's 64-bit integers, and the per-row range.

SQLite stores and sums integers in 64 bits: one value may hold up to 2**63 - 1 picodollars
(about $9.2M), and `SUM` fails with "integer overflow" as soon as a running sum passes that. A year
of a large organisation passes it, so no sum of money is done in one SQL `SUM`:

- queries sum each picodollar column in two parts, `SUM(c / 10**6)` (whole microdollars) and
  `SUM(c % 10**6)` (the picodollars below a microdollar), and Python joins them with unbounded
  integers (`join_split`). The first part passes int64 only after a million rows of $9.2M each,
  about $9.2 trillion; the second never in practice.
- the cumulative `totals` table keeps each money column as such a pair, `<column>_hi` and
  `<column>_lo`, added to by the same split of each row (migration `m003_totals_exact_money`).

One usage row or billed line above 2**63 - 1 picodollars cannot be stored at all: it is refused
with its page (`out_of_range`), never stored in part.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SPLIT = 10**6
"""Picodollars per microdollar: where a money value is split into a high and a low part."""

INT64_MAX = 2**63 - 1
"""The largest integer SQLite stores: the most one row's cost (or token count) may be."""
ROW_LIMIT_TEXT = "2**63 - 1 picodollars or units, about $9.22M"
"""INT64_MAX for people, in refusals."""


def split_sum(column: str) -> str:
    """Two SQL aggregates whose `join_split` is the exact SUM of a picodollar column (or expression)."""
    return f"SUM({column} / {SPLIT}), SUM({column} % {SPLIT})"


def split_sums(columns: Iterable[str]) -> str:
    """`split_sum` of each quoted column name, comma-separated, in order."""
    return ", ".join(split_sum(f'"{c}"') for c in columns)


def join_split(high: int | None, low: int | None) -> int:
    """The exact value of a high/low pair (either may be NULL: the SUM of no rows)."""
    return (high or 0) * SPLIT + (low or 0)


def join_pairs(values: Sequence[int | None]) -> list[int]:
    """[hi0, lo0, hi1, lo1, ...] -> [value0, value1, ...]."""
    return [join_split(values[i], values[i + 1]) for i in range(0, len(values), 2)]


def out_of_range(fields: Iterable[tuple[str, int]]) -> tuple[str, int] | None:
    """The first (name, value) that SQLite cannot store as an integer, or None."""
    for name, value in fields:
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            return name, value
    return None

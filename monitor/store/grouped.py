"""Grouped reads of `usage` for the judging layers: spend per local day (budgets), per hour (spike
anomalies), per UTC day with tokens (savings, what-if), and first sightings (new keys and models).

Every function streams its groups from the cursor: a window of a large ledger holds hundreds of
thousands of (combination, day) groups, and a list of them all would pin ~100 MB of heap arenas
after it is freed. Money is summed exactly (monitor.store.money).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from monitor.periods import offset_segments
from monitor.store.ledger_columns import TOK_COLUMNS, quote
from monitor.store.money import join_split, split_sum
from monitor.store.queries import DIMENSIONS

DAY = 86_400
HOUR = 3_600
EVERYTHING = (-(2**62), 2**62)
"""A [start, end) range that holds every bucket."""


def local_day_sql(tz: ZoneInfo, lo: int, hi: int, column: str = "bucket_start") -> str:
    """An SQL integer expression: the local epoch day (days since 1970-01-01 on the calendar of `tz`)
    of `column`, exact for instants in [lo, hi).

    The local day of an instant is `(t + utc_offset_at_t) / 86400`; the offset changes at DST
    transitions, so the expression is a CASE over the offset segments of the range (a few a year).
    """
    segments = offset_segments(tz, lo, hi)
    if len(segments) == 1:
        return f"(({column} + {segments[0][1]}) / {DAY})"
    cases = " ".join(f"WHEN {column} < {until} THEN {offset}" for until, offset in segments[:-1])
    return f"(({column} + CASE {cases} ELSE {segments[-1][1]} END) / {DAY})"


def _check_dims(dims: Sequence[str]) -> str:
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(
            f"unknown dimension(s) {', '.join(unknown)}: expected some of {', '.join(DIMENSIONS)}"
        )
    return ", ".join(map(quote, dims))


def spend_per_local_day(
    conn: sqlite3.Connection,
    dims: Sequence[str],
    *,
    since: int,
    until: int,
    tz: ZoneInfo,
    only: Sequence[tuple[str, ...]] | None = None,
) -> Iterator[tuple[tuple[str, ...], int, int, int]]:
    """(dims values, local epoch day, picodollars, usage rows) per group of the buckets that start at
    or after `since`; days are exact up to `until` (a bucket after it is put in a day by the offset
    in force at `until`). `only` keeps the listed combinations of dims values."""
    cols = _check_dims(dims)
    params: list[Any] = [since]
    only_sql = ""
    if only is not None:
        row = f"({', '.join('?' * len(dims))})"
        only_sql = f" AND ({cols}) IN (VALUES {', '.join([row] * len(only))})"
        params.extend(v for combo in only for v in combo)
    day = local_day_sql(tz, since, until)
    sql = (
        f"SELECT {cols}, {day} AS day, {split_sum('cost_total')}, COUNT(*) FROM usage "
        f"WHERE bucket_start >= ?{only_sql} GROUP BY {cols}, day"
    )
    n = len(dims)
    for values in conn.execute(sql, params):
        yield tuple(values[:n]), values[n], join_split(values[n + 1], values[n + 2]), values[n + 3]


def spend_per_hour(
    conn: sqlite3.Connection, ranges: Sequence[tuple[int, int]], dims: Sequence[str]
) -> Iterator[tuple[int, tuple[str, ...], int]]:
    """(hour start, dims values, picodollars) per hour of the buckets (of an hour or less) that start
    in any of the [start, end) `ranges`."""
    cols = _check_dims(dims)
    where = " OR ".join("(bucket_start >= ? AND bucket_start < ?)" for _ in ranges) or "0"
    sql = (
        f"SELECT bucket_start / {HOUR} * {HOUR} AS hour, {cols}, {split_sum('cost_total')} FROM usage "
        f"WHERE bucket_width <= {HOUR} AND ({where}) GROUP BY hour, {cols}"
    )
    n = len(dims)
    for values in conn.execute(sql, [v for r in ranges for v in r]):
        yield values[0], tuple(values[1 : n + 1]), join_split(values[n + 1], values[n + 2])


def first_bucket_ends(conn: sqlite3.Connection, column: str, values: Sequence[str]) -> dict[str, int]:
    """The end of the earliest bucket of each value of `column` (a dimension, e.g. "api_key")."""
    col = _check_dims([column])
    sql = (
        f"SELECT {col}, MIN(bucket_start + bucket_width) FROM usage "
        f"WHERE {col} IN (SELECT value FROM json_each(?)) GROUP BY {col}"
    )
    return {value: int(end) for value, end in conn.execute(sql, [json.dumps(sorted(values))])}


def first_bucket_start(conn: sqlite3.Connection) -> int | None:
    """The start of the oldest bucket in the ledger, None when it holds no usage."""
    (first,) = conn.execute("SELECT MIN(bucket_start) FROM usage").fetchone()
    return None if first is None else int(first)


UtcDayGroup = tuple[dict[str, Any], int, tuple[int, ...], int, int, int]
"""(dims by name, UTC day start, tokens in TOKEN_TYPES order, cost_total, unit_cost, unpriced tokens)."""


def usage_per_utc_day(
    conn: sqlite3.Connection,
    dims: Sequence[str],
    start: int | None,
    end: int | None,
    *,
    with_tokens: Sequence[str] = (),
) -> Iterator[UtcDayGroup]:
    """Tokens and cost per group of `dims` and UTC day, for buckets starting in [start, end) (None:
    unbounded); `with_tokens` (token types) keeps only rows that have some of those tokens."""
    cols = _check_dims(dims)
    where = "bucket_start >= ? AND bucket_start < ?"
    params: list[Any] = [EVERYTHING[0] if start is None else start, EVERYTHING[1] if end is None else end]
    if with_tokens:
        where += " AND (" + " OR ".join(f"{quote('tok_' + t)} > 0" for t in with_tokens) + ")"
    sums = ", ".join(f"SUM({quote(c)})" for c in TOK_COLUMNS)
    sql = (
        f"SELECT {cols}, bucket_start / {DAY}, {sums}, {split_sum('cost_total')}, {split_sum('unit_cost')}, "
        f"SUM(unpriced_tokens) FROM usage WHERE {where} GROUP BY {cols}, bucket_start / {DAY}"
    )
    n, t = len(dims), len(TOK_COLUMNS)
    for values in conn.execute(sql, params):
        money = values[n + 1 + t :]
        yield (
            dict(zip(dims, values[:n], strict=True)),
            values[n] * DAY,
            tuple(values[n + 1 : n + 1 + t]),
            join_split(money[0], money[1]),
            join_split(money[2], money[3]),
            money[4],
        )

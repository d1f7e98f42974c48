"""The `totals` table: cumulative usage and cost per (provider, account, project, api_key, model, service_tier, user).

Maintained by exact deltas inside the writer's transaction: the aggregate of the rows a write
touches is subtracted before the write and added after it, in SQL (no per-row Python work).
Columns are int64 picodollars in a STRICT table, so one key can hold $9.2M per column; beyond
that the write fails (integer overflow) instead of losing exactness.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from monitor.records import TOKEN_TYPES
from monitor.store.schema import (
    COST_COLUMNS,
    PK_AFTER,
    PK_COLUMNS,
    TOK_COLUMNS,
    TOTALS_COLUMNS,
    TOTALS_SUMS,
)

BucketGroup = tuple[str, str, int]
"""(account, endpoint, bucket_width): the buckets of one group are selected together by BUCKETS_WHERE."""

BUCKETS_WHERE = (
    "account = ? AND endpoint = ? AND bucket_width = ? AND bucket_start IN (SELECT value FROM json_each(?))"
)
"""Selects the usage rows of a list (JSON array) of buckets of one (account, endpoint, bucket_width)."""

RANGE_WHERE = (
    f"{PK_AFTER} AND ({', '.join(PK_COLUMNS)}) <= ({', '.join('?' * len(PK_COLUMNS))}) AND bucket_start >= ?"
)
"""Selects usage rows with first_excluded < key <= last_included and bucket_start >= floor."""


_KEYS = ", ".join(f'"{c}"' for c in TOTALS_COLUMNS)


def _apply_sql(where: str, sign: int) -> str:
    """Upsert every selected usage row into totals (times sign).

    Row by row rather than GROUP BY: totals is small and hot, so a per-row b-tree update is
    cheaper than sorting the page's rows by key first (measured ~2x, see docs/BENCHMARKS.md).
    """
    keys = _KEYS
    sums = ", ".join(f'"{c}"' for c in TOTALS_SUMS)
    values = ", ".join(str(sign) if c == "rows" else f'{sign} * "{c}"' for c in TOTALS_SUMS)
    updates = ", ".join(f'"{c}" = "{c}" + excluded."{c}"' for c in TOTALS_SUMS)
    return (
        f"INSERT INTO totals ({keys}, {sums}) SELECT {keys}, {values} FROM usage WHERE {where} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    )


_APPLY_BUCKETS = {sign: _apply_sql(BUCKETS_WHERE, sign) for sign in (1, -1)}
_APPLY_RANGE = {sign: _apply_sql(RANGE_WHERE, sign) for sign in (1, -1)}


def apply(conn: sqlite3.Connection, sign: int, group: BucketGroup, starts: set[int]) -> int:
    """Add (sign=1) or subtract (sign=-1) the current rows of these buckets; returns totals rows touched."""
    params = (*group, json.dumps(sorted(starts)))
    return max(conn.execute(_APPLY_BUCKETS[sign], params).rowcount, 0)


def apply_range(
    conn: sqlite3.Connection, sign: int, after: tuple[Any, ...], last: tuple[Any, ...], floor: int
) -> int:
    """Add or subtract the usage rows with after < key <= last (PK order) and bucket_start >= floor."""
    return max(conn.execute(_APPLY_RANGE[sign], (*after, *last, floor)).rowcount, 0)


def drop_empty(conn: sqlite3.Connection) -> None:
    """Delete keys no usage row contributes to any more (all their rows were replaced away)."""
    conn.execute("DELETE FROM totals WHERE rows = 0")


def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every totals row as {key..., rows, tokens{}, costs{}, requests, unit_cost, cost_total, unpriced_tokens}."""
    cursor = conn.execute(f"SELECT * FROM totals ORDER BY {_KEYS}")
    names = [d[0] for d in cursor.description]
    result = []
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        out: dict[str, Any] = {k: row[k] for k in TOTALS_COLUMNS}
        out["rows"] = row["rows"]
        out["tokens"] = {t: row[c] for t, c in zip(TOKEN_TYPES, TOK_COLUMNS, strict=True)}
        out["costs"] = {t: row[c] for t, c in zip(TOKEN_TYPES, COST_COLUMNS, strict=True)}
        for c in ("requests", "unit_cost", "cost_total", "unpriced_tokens"):
            out[c] = row[c]
        result.append(out)
    return result

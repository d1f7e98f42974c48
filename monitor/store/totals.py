"""The `totals` table: cumulative usage and cost per (provider, account, project, api_key, model,
service_tier, user).

Maintained by exact deltas inside the writer's transaction: the aggregate of the rows a write
touches is subtracted before the write and added after it, in SQL (no per-row Python work).
Each money column is a high/low pair (monitor.store.money), so a key's cumulative cost stays exact
far past the $9.2M that one 64-bit column holds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from monitor.records import TOKEN_TYPES
from monitor.store.ledger_columns import (
    PK_COLUMNS,
    TOK_COLUMNS,
    TOTALS_COLUMNS,
    TOTALS_COUNTS,
    TOTALS_MONEY,
    money_pair,
    quote,
)
from monitor.store.money import SPLIT, join_pairs
from monitor.store.usage_rows import PK_AFTER

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


_MONEY_PAIRS: tuple[str, ...] = tuple(name for c in TOTALS_MONEY for name in money_pair(c))
_SUMS: tuple[str, ...] = (*TOTALS_COUNTS, *_MONEY_PAIRS)
"""The cumulative columns of `totals`, in the order `_apply_sql` writes and `iter_rows` reads them."""
_KEYS = ", ".join(map(quote, TOTALS_COLUMNS))
"""The key columns of `totals` (TOTALS_COLUMNS), quoted, for SQL."""


def _apply_sql(where: str, sign: int) -> str:
    """Upsert every selected usage row into totals (times sign).

    Row by row rather than GROUP BY: totals is small and hot, so a per-row b-tree update is
    cheaper than sorting the page's rows by key first (measured ~2x, see docs/BENCHMARKS.md).
    """
    keys = _KEYS
    sums = ", ".join(map(quote, _SUMS))
    counts = [str(sign) if c == "rows" else f'{sign} * "{c}"' for c in TOTALS_COUNTS]
    money = [f'{sign} * ("{c}" {op} {SPLIT})' for c in TOTALS_MONEY for op in ("/", "%")]
    values = ", ".join([*counts, *money])
    updates = ", ".join(f'"{c}" = "{c}" + excluded."{c}"' for c in _SUMS)
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


@dataclass(frozen=True, slots=True)
class KeyTotals:
    """The cumulative usage of one (provider, account, project, api_key, model, service_tier, user):
    `rows` contributing usage rows, tokens and costs in TOKEN_TYPES order, exact picodollars."""

    provider: str
    account: str
    project: str
    api_key: str
    model: str
    service_tier: str
    user: str
    rows: int
    tokens: tuple[int, ...]
    requests: int
    unpriced_tokens: int
    costs: tuple[int, ...]
    unit_cost: int
    cost_total: int

    def as_dict(self) -> dict[str, Any]:
        """{key..., rows, tokens{}, costs{}, requests, unit_cost, cost_total, unpriced_tokens}."""
        out: dict[str, Any] = {k: getattr(self, k) for k in TOTALS_COLUMNS}
        out["rows"] = self.rows
        out["tokens"] = dict(zip(TOKEN_TYPES, self.tokens, strict=True))
        out["costs"] = dict(zip(TOKEN_TYPES, self.costs, strict=True))
        for c in ("requests", "unit_cost", "cost_total", "unpriced_tokens"):
            out[c] = getattr(self, c)
        return out


_N_TOK = len(TOK_COLUMNS)
_ROWS_SQL = f"SELECT {_KEYS}, {', '.join(map(quote, _SUMS))} FROM totals ORDER BY {_KEYS}"


_COSTS_SQL = f"SELECT {_KEYS}, rows, {', '.join(map(quote, money_pair('cost_total')))} FROM totals"


def iter_costs(conn: sqlite3.Connection) -> Iterator[tuple[tuple[str, ...], int, int]]:
    """(key in TOTALS_COLUMNS order, rows, cost_total picodollars) of every totals row, streamed, unordered."""
    k = len(TOTALS_COLUMNS)
    for values in conn.execute(_COSTS_SQL):
        yield values[:k], values[k], values[k + 1] * SPLIT + values[k + 2]


def iter_rows(conn: sqlite3.Connection) -> Iterator[KeyTotals]:
    """Every totals row in key order, streamed from the cursor (never a list of them all)."""
    k = len(TOTALS_COLUMNS)
    for values in conn.execute(_ROWS_SQL):
        counts = values[k : k + len(TOTALS_COUNTS)]
        money = join_pairs(values[k + len(TOTALS_COUNTS) :])
        provider, account, project, api_key, model, tier, user = values[:k]
        yield KeyTotals(
            provider,
            account,
            project,
            api_key,
            model,
            tier,
            user,
            rows=counts[0],
            tokens=tuple(counts[1 : 1 + _N_TOK]),
            requests=counts[1 + _N_TOK],
            unpriced_tokens=counts[2 + _N_TOK],
            costs=tuple(money[:_N_TOK]),
            unit_cost=money[_N_TOK],
            cost_total=money[_N_TOK + 1],
        )

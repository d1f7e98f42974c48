"""Read queries over `usage`: spend in a time range, grouped by dimensions, per bucket, within a Scope.

Exactness: SQLite's SUM over integers fails past 2**63 picodollars ($9.2M), which a year of a
large organisation passes (and a day may, two rows of $8M do). So every money column is summed as
a high/low pair (monitor.store.money) and joined in Python; the groups are still per UTC day (or
per bucket for day/hour grouping), which time labels need and which keeps each pair small.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.periods import to_unix
from monitor.records import TOKEN_TYPES
from monitor.store.ledger_columns import COST_COLUMNS, TOK_COLUMNS, quote
from monitor.store.money import join_pairs, split_sum, split_sums

DIMENSIONS: tuple[str, ...] = (
    "provider",
    "account",
    "project",
    "api_key",
    "user",
    "model",
    "service_tier",
    "endpoint",
    "batch",
    "context_window",
)
TIME_DIMENSIONS: tuple[str, ...] = ("day", "hour")
"""Pseudo-dimensions: the local day (YYYY-MM-DD) or hour (ISO 8601 with offset) of bucket_start in tz."""

_DAY = 86400
_COUNTS: tuple[str, ...] = (*TOK_COLUMNS, "requests", "unpriced_tokens")
_MONEY: tuple[str, ...] = (*COST_COLUMNS, "unit_cost", "cost_total")
_N_TOK = len(TOKEN_TYPES)
_N_COUNTS = len(_COUNTS)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which usage a query covers: each field is a tuple of GLOB patterns (any may match); empty = any.

    A single string is accepted and treated as a one-pattern tuple.
    """

    provider: tuple[str, ...] = ()
    account: tuple[str, ...] = ()
    project: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    api_key: tuple[str, ...] = ()
    user: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                object.__setattr__(self, f.name, (value,))
            else:
                object.__setattr__(self, f.name, tuple(value))

    def sql(self) -> tuple[str, list[str]]:
        """An SQL fragment (" AND (...)" per restricted field) and its parameters."""
        parts: list[str] = []
        params: list[str] = []
        for f in fields(self):
            patterns: tuple[str, ...] = getattr(self, f.name)
            if patterns:
                parts.append(" AND (" + " OR ".join(f'"{f.name}" GLOB ?' for _ in patterns) + ")")
                params.extend(patterns)
        return "".join(parts), params


def _where(start: int, end: int, scope: Scope | None) -> tuple[str, list[Any]]:
    scope_sql, scope_params = (scope or Scope()).sql()
    return f"bucket_start >= ? AND bucket_start < ?{scope_sql}", [start, end, *scope_params]


def _check_dims(dims: Sequence[str], allowed: tuple[str, ...]) -> None:
    unknown = [d for d in dims if d not in allowed]
    if unknown:
        raise ValueError(f"unknown dimension(s) {', '.join(unknown)}: expected some of {', '.join(allowed)}")


def spend(conn: sqlite3.Connection, start: int, end: int, scope: Scope | None) -> int:
    """Picodollars of usage with bucket_start in [start, end) within scope."""
    where, params = _where(start, end, scope)
    high, low = conn.execute(f"SELECT {split_sum('cost_total')} FROM usage WHERE {where}", params).fetchone()
    return join_pairs((high, low))[0]


def _time_label(bucket_start: int, dim: str, tz: ZoneInfo) -> tuple[int, str]:
    """(sort key, label) of the local day or hour containing bucket_start."""
    local = datetime.fromtimestamp(bucket_start, tz)
    if dim == "day":
        return local.toordinal(), local.date().isoformat()
    floor = local.replace(minute=0, second=0, microsecond=0)
    return to_unix(floor), floor.isoformat()


def spend_by(
    conn: sqlite3.Connection,
    dims: Sequence[str],
    start: int,
    end: int,
    *,
    scope: Scope | None,
    tz: ZoneInfo | None,
) -> list[dict[str, Any]]:
    """Usage and cost in [start, end) grouped by dims, sorted by them (day/hour chronologically)."""
    _check_dims(dims, DIMENSIONS + TIME_DIMENSIONS)
    time_dims = [d for d in dims if d in TIME_DIMENSIONS]
    if time_dims and tz is None:
        raise ValueError(f"grouping by {', '.join(time_dims)} needs a timezone (tz=)")
    zone = tz or ZoneInfo("UTC")  # only used when time_dims, where tz is set
    sql_dims = [d for d in dims if d in DIMENSIONS]
    period = "bucket_start" if time_dims else f"bucket_start / {_DAY}"
    where, params = _where(start, end, scope)
    select = ", ".join(
        [
            *(f'"{d}"' for d in sql_dims),
            f"{period} AS period",
            *(f"SUM({quote(c)})" for c in _COUNTS),
            split_sums(_MONEY),
        ]
    )
    group = ", ".join([*(f'"{d}"' for d in sql_dims), "period"])
    n = len(sql_dims)
    groups: dict[tuple[Any, ...], list[int]] = {}
    sort_keys: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    labels: dict[tuple[int, str], tuple[int, str]] = {}
    for values in conn.execute(f"SELECT {select} FROM usage WHERE {where} GROUP BY {group}", params):
        by_name = dict(zip(sql_dims, values[:n], strict=True))
        sort_parts: list[Any] = []
        key_parts: list[Any] = []
        for d in dims:
            if d in TIME_DIMENSIONS:
                cache_key = (values[n], d)
                if cache_key not in labels:
                    labels[cache_key] = _time_label(values[n], d, zone)
                order, label = labels[cache_key]
                sort_parts.append(order)
                key_parts.append(label)
            else:
                value = bool(by_name[d]) if d == "batch" else by_name[d]
                sort_parts.append(value)
                key_parts.append(value)
        key = tuple(key_parts)
        sort_keys[key] = tuple(sort_parts)
        sums = [*values[n + 1 : n + 1 + _N_COUNTS], *join_pairs(values[n + 1 + _N_COUNTS :])]
        acc = groups.get(key)
        if acc is None:
            groups[key] = sums
        else:
            for i, v in enumerate(sums):
                acc[i] += v
    result = []
    for key in sorted(groups, key=sort_keys.__getitem__):
        sums = groups[key]
        row: dict[str, Any] = dict(zip(dims, key, strict=True))
        row["tokens"] = dict(zip(TOKEN_TYPES, sums[:_N_TOK], strict=True))
        row["requests"], row["unpriced_tokens"] = sums[_N_TOK:_N_COUNTS]
        row["costs"] = dict(zip(TOKEN_TYPES, sums[_N_COUNTS : _N_COUNTS + _N_TOK], strict=True))
        row["unit_cost"], row["cost_total"] = sums[_N_COUNTS + _N_TOK :]
        result.append(row)
    return result


def hourly_spend(
    conn: sqlite3.Connection, start: int, end: int, dims: Sequence[str], scope: Scope | None
) -> list[tuple[Any, ...]]:
    """(bucket_start, *dims, cost_pico) per bucket and dims in [start, end), ordered by bucket_start."""
    _check_dims(dims, DIMENSIONS)
    where, params = _where(start, end, scope)
    cols = ", ".join(["bucket_start", *(f'"{d}"' for d in dims)])
    sql = f"SELECT {cols}, {split_sum('cost_total')} FROM usage WHERE {where} GROUP BY {cols} ORDER BY {cols}"
    return [(*values[:-2], *join_pairs(values[-2:])) for values in conn.execute(sql, params)]


def observed_since(db: Any, observed_at: int) -> tuple[int, int | None]:
    """The newest observation time (unix ms), and the oldest bucket start observed after `observed_at`
    (None if nothing was). Every page write records its buckets' observation, so this says which
    days a cache of per-day figures must re-read. `db` is a sqlite3 connection or sqlite-utils
    Database."""
    row = db.execute(
        "SELECT MAX(observed_at), MIN(bucket_start) FROM observations WHERE observed_at > ?", [observed_at]
    ).fetchone()
    if row is None or row[0] is None:
        return observed_at, None
    return int(row[0]), int(row[1])

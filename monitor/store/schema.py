"""The ledger's tables, their `ledger` migration set, and the row <-> record conversions.

Tables are STRICT, so a value of the wrong type (or an integer sum that overflowed to REAL) is
an error instead of silent loss of exactness. `usage` is a WITHOUT ROWID table clustered on its
natural key with bucket_start first: the key is the one unique index (no second b-tree to
maintain on every insert), rows arrive and are stored in time order, and a time range or a
bucket is one contiguous key range.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from monitor.records import TOKEN_TYPES, PricedRow, UsageRow

MIGRATIONS = sqlite_utils.Migrations("ledger")

KEY_COLUMNS: tuple[str, ...] = (
    "account",
    "endpoint",
    "bucket_start",
    "bucket_width",
    "project",
    "api_key",
    "user",
    "model",
    "service_tier",
    "batch",
    "context_window",
)
"""The natural key of a usage row (UsageRow.key order); unique in `usage`."""

PK_COLUMNS: tuple[str, ...] = ("bucket_start", "account", "endpoint", *KEY_COLUMNS[3:])
"""The same key in the order of usage's primary key (time first)."""

TOK_COLUMNS: tuple[str, ...] = tuple(f"tok_{t}" for t in TOKEN_TYPES)
COST_COLUMNS: tuple[str, ...] = tuple(f"cost_{t}" for t in TOKEN_TYPES)

USAGE_COLUMNS: tuple[str, ...] = (
    "provider",
    *KEY_COLUMNS,
    *TOK_COLUMNS,
    "requests",
    "units",
    *COST_COLUMNS,
    "unit_cost",
    "price_id",
    "unpriced_tokens",
    "observed_at",
)
"""The columns written by an upsert, in the order of `usage_params` tuples."""

VALUE_COLUMNS: tuple[str, ...] = USAGE_COLUMNS[len(KEY_COLUMNS) + 1 :]

TOTALS_KEY: tuple[str, ...] = ("provider", "account", "project", "api_key", "model", "service_tier")
"""The key of `totals` as m001_ledger created it."""
TOTALS_COLUMNS: tuple[str, ...] = (*TOTALS_KEY, "user")
"""The key of `totals` since m002_totals_user: the user is a dimension of the counters too."""
TOTALS_SUMS: tuple[str, ...] = (
    "rows",
    *TOK_COLUMNS,
    "requests",
    *COST_COLUMNS,
    "unit_cost",
    "cost_total",
    "unpriced_tokens",
)
"""Cumulative columns of `totals`; `rows` counts contributing usage rows (a key with 0 rows is dropped)."""


def _q(name: str) -> str:
    return f'"{name}"'


def _int_columns(names: Iterable[str]) -> str:
    return ",\n    ".join(f"{_q(n)} INTEGER NOT NULL DEFAULT 0" for n in names)


@MIGRATIONS()
def m001_ledger(db: sqlite_utils.Database) -> None:
    """usage, observations, cursors, totals and polls."""
    key_defs = ",\n    ".join(
        f"{_q(c)} INTEGER NOT NULL"
        if c in ("bucket_start", "bucket_width", "batch")
        else f"{_q(c)} TEXT NOT NULL"
        for c in KEY_COLUMNS
    )
    total_expr = " + ".join(_q(c) for c in (*COST_COLUMNS, "unit_cost"))
    db.execute(f"""
CREATE TABLE usage (
    provider TEXT NOT NULL,
    {key_defs},
    {_int_columns(TOK_COLUMNS)},
    requests INTEGER NOT NULL DEFAULT 0,
    units TEXT,
    {_int_columns(COST_COLUMNS)},
    unit_cost INTEGER NOT NULL DEFAULT 0,
    cost_total INTEGER GENERATED ALWAYS AS ({total_expr}) STORED,
    price_id TEXT,
    unpriced_tokens INTEGER NOT NULL DEFAULT 0,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY ({", ".join(_q(c) for c in PK_COLUMNS)})
) STRICT, WITHOUT ROWID""")
    db.execute("""
CREATE TABLE observations (
    account TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    bucket_start INTEGER NOT NULL,
    bucket_width INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (account, endpoint, bucket_start, bucket_width)
) STRICT, WITHOUT ROWID""")
    db.execute("""
CREATE TABLE cursors (
    account TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    cursor INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, endpoint)
) STRICT""")
    key_text = ",\n    ".join(f"{_q(c)} TEXT NOT NULL" for c in TOTALS_KEY)
    db.execute(f"""
CREATE TABLE totals (
    {key_text},
    {_int_columns(TOTALS_SUMS)},
    PRIMARY KEY ({", ".join(TOTALS_KEY)})
) STRICT""")
    db.execute("""
CREATE TABLE polls (
    account TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    started INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT NOT NULL,
    rows INTEGER NOT NULL,
    PRIMARY KEY (account, endpoint)
) STRICT""")


@MIGRATIONS()
def m002_totals_user(db: sqlite_utils.Database) -> None:
    """Rebuild `totals` keyed by TOTALS_COLUMNS (user added), re-aggregated exactly from `usage`."""
    key_text = ",\n    ".join(f"{_q(c)} TEXT NOT NULL" for c in TOTALS_COLUMNS)
    db.execute(f"""
CREATE TABLE totals_by_user (
    {key_text},
    {_int_columns(TOTALS_SUMS)},
    PRIMARY KEY ({", ".join(_q(c) for c in TOTALS_COLUMNS)})
) STRICT""")
    keys = ", ".join(_q(c) for c in TOTALS_COLUMNS)
    sums = ", ".join("COUNT(*)" if c == "rows" else f'SUM("{c}")' for c in TOTALS_SUMS)
    db.execute(
        f"INSERT INTO totals_by_user ({keys}, {', '.join(_q(c) for c in TOTALS_SUMS)}) "
        f"SELECT {keys}, {sums} FROM usage GROUP BY {keys}"
    )
    db.execute("DROP TABLE totals")
    db.execute("ALTER TABLE totals_by_user RENAME TO totals")


def upsert_sql() -> str:
    """INSERT ... ON CONFLICT(natural key) DO UPDATE, applied only when not older than the stored row."""
    updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in VALUE_COLUMNS)
    return (
        f"INSERT INTO usage ({', '.join(_q(c) for c in USAGE_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(USAGE_COLUMNS))}) "
        f"ON CONFLICT ({', '.join(_q(c) for c in PK_COLUMNS)}) DO UPDATE SET {updates} "
        "WHERE excluded.observed_at >= usage.observed_at"
    )


def units_json(units: tuple[tuple[str, int], ...]) -> str | None:
    """`units` as a JSON object; None when there are none (the common case)."""
    return json.dumps(dict(units), sort_keys=True) if units else None


def usage_params(priced: Sequence[PricedRow], observed_at: int) -> list[tuple[Any, ...]]:
    """Parameter tuples for `upsert_sql`, built with as little per-row Python work as possible."""
    params: list[tuple[Any, ...]] = []
    append = params.append
    for p in priced:
        u = p.usage
        append(
            (
                u.provider,
                *u.key,
                *u.tokens,
                u.requests,
                units_json(u.units),
                *p.costs,
                p.unit_cost,
                p.price_id,
                p.unpriced_tokens,
                observed_at,
            )
        )
    return params


def pk_of(row: UsageRow) -> tuple[Any, ...]:
    """The primary-key values of a row (PK_COLUMNS order), e.g. for keyset pagination."""
    return (
        row.bucket_start,
        row.account,
        row.endpoint,
        row.bucket_width,
        row.project,
        row.api_key,
        row.user,
        row.model,
        row.service_tier,
        int(row.batch),
        row.context_window,
    )


FIRST_BUCKET = -(2**62)
"""Below any unix time: the `since` of "everything"."""


def key_before(bucket_start: int) -> tuple[Any, ...]:
    """A key (pk_of order) below every real key whose bucket starts at or after `bucket_start`:
    where keyset pagination from `bucket_start` begins, seeking straight to it."""
    return (bucket_start, "", "", -1, *("",) * 5, -1, "")


PK_AFTER = f"({', '.join(_q(c) for c in PK_COLUMNS)}) > ({', '.join('?' * len(PK_COLUMNS))})"
"""Rows after a key (bind pk_of(...)): keyset pagination over the primary key."""

ROW_COLUMNS: tuple[str, ...] = ("provider", *KEY_COLUMNS, *TOK_COLUMNS, "requests", "units", "price_id")
"""The columns `usage_row` reads back (SELECT them in this order)."""
ROW_SELECT = ", ".join(_q(c) for c in ROW_COLUMNS)

_N_TOK = len(TOKEN_TYPES)


def usage_row(values: Sequence[Any]) -> tuple[UsageRow, str | None]:
    """A UsageRow (and its stored price_id) from a row of ROW_COLUMNS (UsageRow's field order)."""
    units_text = values[-2]
    units: tuple[tuple[str, int], ...] = tuple(sorted(json.loads(units_text).items())) if units_text else ()
    provider, account, endpoint, start, width, project, api_key, user, model, tier, batch, cw = values[:12]
    row = UsageRow(
        provider,
        account,
        endpoint,
        start,
        width,
        project,
        api_key,
        user,
        model,
        tier,
        bool(batch),
        cw,
        tuple(values[12 : 12 + _N_TOK]),
        values[12 + _N_TOK],
        units,
    )
    return row, values[-1]

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
from monitor.store.money import SPLIT

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
"""The natural key of a usage row as `m001_ledger` created it (frozen: the migration builds from it)."""

_M001_PK: tuple[str, ...] = ("bucket_start", "account", "endpoint", *KEY_COLUMNS[3:])
"""usage's primary key as `m001_ledger` created it (frozen, like KEY_COLUMNS)."""

USAGE_KEY: tuple[str, ...] = (*KEY_COLUMNS, "inference_geo")
"""The natural key of a usage row today (UsageRow.key order); unique in `usage` (since m002)."""

PK_COLUMNS: tuple[str, ...] = ("bucket_start", "account", "endpoint", *USAGE_KEY[3:])
"""The same key in the order of usage's primary key (time first)."""

TOK_COLUMNS: tuple[str, ...] = tuple(f"tok_{t}" for t in TOKEN_TYPES)
COST_COLUMNS: tuple[str, ...] = tuple(f"cost_{t}" for t in TOKEN_TYPES)

USAGE_COLUMNS: tuple[str, ...] = (
    "provider",
    *USAGE_KEY,
    *TOK_COLUMNS,
    "requests",
    "units",
    *COST_COLUMNS,
    "unit_cost",
    "price_id",
    "price_source",
    "unpriced_tokens",
    "observed_at",
)
"""The columns written by an upsert, in the order of `usage_params` tuples."""

VALUE_COLUMNS: tuple[str, ...] = USAGE_COLUMNS[len(USAGE_KEY) + 1 :]

TOTALS_KEY: tuple[str, ...] = ("provider", "account", "project", "api_key", "model", "service_tier")
"""The key of `totals` as m001_ledger created it."""
TOTALS_COLUMNS: tuple[str, ...] = (*TOTALS_KEY, "user")
"""The key of `totals` since m004_totals_user: the user is a dimension of the counters too."""
TOTALS_SUMS: tuple[str, ...] = (
    "rows",
    *TOK_COLUMNS,
    "requests",
    *COST_COLUMNS,
    "unit_cost",
    "cost_total",
    "unpriced_tokens",
)
"""Cumulative columns of `totals` as `m001_ledger` made them; `rows` counts contributing usage rows
(a key with 0 rows is dropped). Since `m003_totals_exact_money` each money column is a pair."""

TOTALS_MONEY: tuple[str, ...] = (*COST_COLUMNS, "unit_cost", "cost_total")
"""The picodollar columns of `totals`, each kept as `<name>_hi` and `<name>_lo` (monitor.store.money)."""
TOTALS_COUNTS: tuple[str, ...] = tuple(c for c in TOTALS_SUMS if c not in TOTALS_MONEY)
"""The other cumulative columns of `totals` (rows, tokens, requests): counts, far from int64."""


def money_pair(column: str) -> tuple[str, str]:
    """The two `totals` columns of a money column: (whole microdollars, picodollars below one)."""
    return f"{column}_hi", f"{column}_lo"


def quote(name: str) -> str:
    """A column name as an SQL identifier."""
    return f'"{name}"'


_q = quote


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
    PRIMARY KEY ({", ".join(_q(c) for c in _M001_PK)})
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
def m002_usage_pricing_columns(db: sqlite_utils.Database) -> None:
    """Rebuilds `usage` (only it): `inference_geo` joins the natural key (Anthropic prices some geos
    apart), and `price_source` records which price source priced each row.

    A primary key cannot be altered in SQLite, so the table is copied: existing rows get
    inference_geo "" and price_source NULL (priced before sources were recorded; `reprice` fills it).
    """
    key = (*KEY_COLUMNS, "inference_geo")  # frozen here: later migrations must not change this one
    pk = ("bucket_start", "account", "endpoint", *key[3:])
    key_defs = ",\n    ".join(
        f"{_q(c)} INTEGER NOT NULL"
        if c in ("bucket_start", "bucket_width", "batch")
        else f"{_q(c)} TEXT NOT NULL" + (" DEFAULT ''" if c == "inference_geo" else "")
        for c in key
    )
    total_expr = " + ".join(_q(c) for c in (*COST_COLUMNS, "unit_cost"))
    db.execute(f"""
CREATE TABLE usage_m002 (
    provider TEXT NOT NULL,
    {key_defs},
    {_int_columns(TOK_COLUMNS)},
    requests INTEGER NOT NULL DEFAULT 0,
    units TEXT,
    {_int_columns(COST_COLUMNS)},
    unit_cost INTEGER NOT NULL DEFAULT 0,
    cost_total INTEGER GENERATED ALWAYS AS ({total_expr}) STORED,
    price_id TEXT,
    price_source TEXT,
    unpriced_tokens INTEGER NOT NULL DEFAULT 0,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY ({", ".join(_q(c) for c in pk)})
) STRICT, WITHOUT ROWID""")
    copied = ("provider", *KEY_COLUMNS, *TOK_COLUMNS, "requests", "units", *COST_COLUMNS, "unit_cost")
    kept = ", ".join(_q(c) for c in (*copied, "price_id", "unpriced_tokens", "observed_at"))
    db.execute(f"INSERT INTO usage_m002 ({kept}) SELECT {kept} FROM usage ORDER BY {', '.join(pk[:-1])}")
    db.execute("DROP TABLE usage")
    db.execute("ALTER TABLE usage_m002 RENAME TO usage")


@MIGRATIONS()
def m003_totals_exact_money(db: sqlite_utils.Database) -> None:
    """Rebuild `totals` with each money column as a high/low pair, so per-key sums past $9.2M stay exact.

    Reads the columns the table has (whatever earlier migrations gave it): every `cost_*` column and
    `unit_cost` becomes `<name>_hi` (value / 10**6) and `<name>_lo` (value % 10**6).
    """
    columns = [str(row[1]) for row in db.execute("PRAGMA table_info(totals)").fetchall()]
    money = [c for c in columns if c.startswith("cost_") or c == "unit_cost"]
    new_columns: list[str] = []
    values: list[str] = []
    for column in columns:
        if column in money:
            new_columns.extend(money_pair(column))
            values.extend((f"{_q(column)} / 1000000", f"{_q(column)} % 1000000"))
        else:
            new_columns.append(column)
            values.append(_q(column))
    keys = [c for c in columns if c in TOTALS_KEY]
    key_text = ",\n    ".join(f"{_q(c)} TEXT NOT NULL" for c in keys)
    db.execute(f"""
CREATE TABLE totals_exact (
    {key_text},
    {_int_columns(c for c in new_columns if c not in keys)},
    PRIMARY KEY ({", ".join(_q(c) for c in keys)})
) STRICT""")
    db.execute(
        f"INSERT INTO totals_exact ({', '.join(_q(c) for c in new_columns)}) "
        f"SELECT {', '.join(values)} FROM totals"
    )
    db.execute("DROP TABLE totals")
    db.execute("ALTER TABLE totals_exact RENAME TO totals")


@MIGRATIONS()
def m004_totals_user(db: sqlite_utils.Database) -> None:
    """Rebuild `totals` with `user` in its key (the counters' last dimension), re-aggregated exactly
    from `usage`: `rows` counted, the other counts summed, each money pair `<c>_hi`/`<c>_lo` summed as
    `SUM(c / 10**6)`/`SUM(c % 10**6)` of usage's `<c>` (the split m003 keeps, so no sum overflows).

    Reads the columns the table has (like m003), so it runs on a ledger of any earlier commit.
    """
    columns = [str(row[1]) for row in db.execute("PRAGMA table_info(totals)").fetchall()]
    keys = [*(c for c in columns if c in TOTALS_KEY), "user"]
    sums = [c for c in columns if c not in keys]
    values = []
    for column in sums:
        if column == "rows":
            values.append("COUNT(*)")
        elif column.endswith("_hi") and f"{column[:-3]}_lo" in sums:
            values.append(f"SUM({_q(column[:-3])} / {SPLIT})")
        elif column.endswith("_lo") and f"{column[:-3]}_hi" in sums:
            values.append(f"SUM({_q(column[:-3])} % {SPLIT})")
        else:
            values.append(f"SUM({_q(column)})")
    key_list = ", ".join(_q(c) for c in keys)
    key_text = ",\n    ".join(f"{_q(c)} TEXT NOT NULL" for c in keys)
    db.execute(f"""
CREATE TABLE totals_by_user (
    {key_text},
    {_int_columns(sums)},
    PRIMARY KEY ({key_list})
) STRICT""")
    db.execute(
        f"INSERT INTO totals_by_user ({key_list}, {', '.join(_q(c) for c in sums)}) "
        f"SELECT {key_list}, {', '.join(values)} FROM usage GROUP BY {key_list}"
    )
    db.execute("DROP TABLE totals")
    db.execute("ALTER TABLE totals_by_user RENAME TO totals")


@MIGRATIONS()
def m005_usage_bill_indexes(db: sqlite_utils.Database) -> None:
    """Two partial indexes on `usage` (no table rebuilt): the rows with unpriced tokens and the rows
    priced from a bill. Both sets are small next to the ledger, so budgets find their unpriced tokens
    and the rates from the bill find the rows they price without reading every row, and rows priced
    from a table cost no index entry."""
    db.execute("CREATE INDEX usage_unpriced ON usage (bucket_start) WHERE unpriced_tokens > 0")
    db.execute("CREATE INDEX usage_bill_priced ON usage (bucket_start) WHERE price_source GLOB 'billed *'")


@MIGRATIONS()
def m006_totals_repriced(db: sqlite_utils.Database) -> None:
    """totals_repriced: per totals key (TOTALS_COLUMNS, with `user` as m004_totals_user keys `totals`),
    what re-pricing took back from each cumulative money column and from the unpriced tokens (a lower
    price found later; tokens priced after they were stored), so the exported counters add it back
    and never go down when rows are priced again."""
    key_text = ",\n    ".join(f"{_q(c)} TEXT NOT NULL" for c in TOTALS_COLUMNS)
    pairs = [name for c in REPRICED_MONEY for name in money_pair(c)]
    db.execute(f"""
CREATE TABLE totals_repriced (
    {key_text},
    {_int_columns(["unpriced_tokens", *pairs])},
    PRIMARY KEY ({", ".join(map(_q, TOTALS_COLUMNS))})
) STRICT""")


UNPRICED_ROWS = "unpriced_tokens > 0"
"""The rows with tokens no price matched (the `usage_unpriced` index: write it exactly so in queries)."""
BILL_PRICED_ROWS = "price_source GLOB 'billed *'"
"""The rows priced from a provider's bill (source "billed YYYY-MM-DD"; the `usage_bill_priced` index)."""
REPRICED_MONEY: tuple[str, ...] = (*COST_COLUMNS, "unit_cost")
"""The money columns whose re-pricing decreases `totals_repriced` keeps (as pairs)."""


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
                p.price_source or None,
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
        row.inference_geo,
    )


FIRST_BUCKET = -(2**62)
"""Below any unix time: the `since` of "everything"."""


def key_before(bucket_start: int) -> tuple[Any, ...]:
    """A key (pk_of order) below every real key whose bucket starts at or after `bucket_start`:
    where keyset pagination from `bucket_start` begins, seeking straight to it."""
    return (bucket_start, "", "", -1, *("",) * 5, -1, "", "")


PK_AFTER = f"({', '.join(_q(c) for c in PK_COLUMNS)}) > ({', '.join('?' * len(PK_COLUMNS))})"
"""Rows after a key (bind pk_of(...)): keyset pagination over the primary key."""

ROW_COLUMNS: tuple[str, ...] = ("provider", *USAGE_KEY, *TOK_COLUMNS, "requests", "units", "price_id")
"""The columns `usage_row` reads back (SELECT them in this order)."""
ROW_SELECT = ", ".join(_q(c) for c in ROW_COLUMNS)

_N_TOK = len(TOKEN_TYPES)
_N_KEY = len(USAGE_KEY) + 1  # with provider


def usage_row(values: Sequence[Any]) -> tuple[UsageRow, str | None]:
    """A UsageRow (and its stored price_id) from a row of ROW_COLUMNS."""
    units_text = values[-2]
    units: tuple[tuple[str, int], ...] = tuple(sorted(json.loads(units_text).items())) if units_text else ()
    provider, account, endpoint, start, width, project, api_key, user, model, tier, batch, cw, geo = values[
        :_N_KEY
    ]
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
        tuple(values[_N_KEY : _N_KEY + _N_TOK]),
        values[_N_KEY + _N_TOK],
        units,
        inference_geo=geo,
    )
    return row, values[-1]

"""The ledger's tables and their `ledger` migration set (m001-m006, applied by `connect()`).

Tables are STRICT, so a value of the wrong type (or an integer sum that overflowed to REAL) is
an error instead of silent loss of exactness. `usage` is a WITHOUT ROWID table clustered on its
natural key with bucket_start first: the key is the one unique index (no second b-tree to
maintain on every insert), rows arrive and are stored in time order, and a time range or a
bucket is one contiguous key range. The columns are ledger_columns.py's; the row <-> record
conversions are usage_rows.py's.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from monitor.store.ledger_columns import (
    COST_COLUMNS,
    KEY_COLUMNS,
    REPRICED_MONEY,
    TOK_COLUMNS,
    TOTALS_COLUMNS,
    TOTALS_KEY,
    TOTALS_SUMS,
    money_pair,
    quote,
)
from monitor.store.money import SPLIT

MIGRATIONS = sqlite_utils.Migrations("ledger")

_M001_PK: tuple[str, ...] = ("bucket_start", "account", "endpoint", *KEY_COLUMNS[3:])
"""usage's primary key as `m001_ledger` created it (frozen, like KEY_COLUMNS)."""

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

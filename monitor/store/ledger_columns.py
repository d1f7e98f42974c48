"""The ledger's columns: the natural and primary keys of `usage`, its token, cost and value columns,
the keys and cumulative columns of `totals` (money kept as pairs), the money columns re-pricing
tracks, the row predicates the partial indexes serve, and column names as SQL identifiers.

The keys as `m001_ledger` created them are frozen here: the migrations (schema.py) build from them.
"""

from __future__ import annotations

from monitor.records import TOKEN_TYPES

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


UNPRICED_ROWS = "unpriced_tokens > 0"
"""The rows with tokens no price matched (the `usage_unpriced` index: write it exactly so in queries)."""
BILL_PRICED_ROWS = "price_source GLOB 'billed *'"
"""The rows priced from a provider's bill (source "billed YYYY-MM-DD"; the `usage_bill_priced` index)."""
REPRICED_MONEY: tuple[str, ...] = (*COST_COLUMNS, "unit_cost")
"""The money columns whose re-pricing decreases `totals_repriced` keeps (as pairs)."""

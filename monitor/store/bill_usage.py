"""Reads of `usage` for the rates from the bill and for budgets that must not be blind.

- `usage_for_bills`: tokens and computed cost per (account, UTC day, model, tier, context window) and
  by what priced them, the usage a billed line is matched with (its rate, and the ledger's own rate
  it is compared with);
- `days_to_price`: the UTC days holding rows a bill can price (no price) or priced (a bill's rate);
- `bill_priced`: what was priced from a bill in a range, per (provider, account, model);
- `unpriced_per_local_day`: tokens still without a price per combination and local day.

The last three read only the rows of the partial indexes `usage_unpriced` / `usage_bill_priced`
(schema.m005_usage_bill_indexes), so they cost next to nothing while few rows lack a table price. Money is summed
exactly (monitor.store.money).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from monitor.records import TOKEN_TYPES
from monitor.store.grouped import local_day_sql
from monitor.store.ledger_columns import BILL_PRICED_ROWS, COST_COLUMNS, TOK_COLUMNS, UNPRICED_ROWS, quote
from monitor.store.money import join_pairs, split_sums
from monitor.store.queries import DIMENSIONS

DAY = 86_400
TABLE, BILL, NONE = "table", "bill", ""
"""How a group's rows were priced: by a price source of the table chain, by a bill's rate, or not."""

_PRICED_BY = (
    f"CASE WHEN price_id IS NULL THEN '{NONE}' WHEN {BILL_PRICED_ROWS} THEN '{BILL}' ELSE '{TABLE}' END"
)
_KEYS = ("provider", "account", "model", "service_tier", "batch", "context_window")
_USAGE_SQL = (
    f"SELECT {', '.join(_KEYS)}, bucket_start / {DAY} * {DAY} AS day, {_PRICED_BY} AS priced_by, "
    f"{', '.join(f'SUM({quote(c)})' for c in TOK_COLUMNS)}, {split_sums(COST_COLUMNS)}, "
    "SUM(COALESCE(json_extract(units, '$.web_search_requests'), 0)) "
    f"FROM usage WHERE bucket_start >= ? AND bucket_start < ? GROUP BY {', '.join(_KEYS)}, day, priced_by"
)
_N_TOK = len(TOKEN_TYPES)


@dataclass(frozen=True, slots=True)
class BillUsage:
    """Usage of one (provider, account, UTC day, model, tier as reported, batch, context window),
    split by what priced it (`priced_by`: TABLE, BILL or NONE): tokens and computed cost per
    TOKEN_TYPES kind, and web search requests."""

    provider: str
    account: str
    day_start: int
    model: str
    service_tier: str
    batch: bool
    context_window: str
    priced_by: str
    tokens: tuple[int, ...]
    costs: tuple[int, ...]
    web_searches: int


def usage_for_bills(conn: sqlite3.Connection, start: int, end: int) -> Iterator[BillUsage]:
    """Every group of the buckets starting in [start, end), streamed."""
    for values in conn.execute(_USAGE_SQL, (start, end)):
        provider, account, model, tier, batch, window, day, priced_by = values[:8]
        tokens = tuple(values[8 : 8 + _N_TOK])
        costs = tuple(join_pairs(values[8 + _N_TOK : 8 + 3 * _N_TOK]))
        yield BillUsage(
            provider, account, day, model, tier, bool(batch), window, priced_by, tokens, costs, values[-1]
        )


def days_to_price(conn: sqlite3.Connection, start: int, end: int) -> list[int]:
    """The UTC day starts in [start, end) with rows that have unpriced tokens or were priced from a bill."""
    sql = (
        f"SELECT DISTINCT bucket_start / {DAY} * {DAY} FROM usage WHERE {UNPRICED_ROWS} "
        f"AND bucket_start >= ? AND bucket_start < ? UNION SELECT DISTINCT bucket_start / {DAY} * {DAY} "
        f"FROM usage WHERE {BILL_PRICED_ROWS} AND bucket_start >= ? AND bucket_start < ? ORDER BY 1"
    )
    return [int(day) for (day,) in conn.execute(sql, (start, end, start, end))]


@dataclass(frozen=True, slots=True)
class BillPriced:
    """Usage of one (provider, account, model) priced from bills in a range: tokens, picodollars, and
    the first and last UTC day (YYYY-MM-DD of the `price_source` "billed YYYY-MM-DD")."""

    provider: str
    account: str
    model: str
    tokens: int
    cost_pico: int
    first_day: str
    last_day: str


def bill_priced(conn: sqlite3.Connection, start: int, end: int) -> list[BillPriced]:
    """What was priced from a bill among the buckets starting in [start, end), by provider, account, model."""
    tokens = " + ".join(f"SUM({quote(c)})" for c in TOK_COLUMNS)
    sql = (
        f"SELECT provider, account, model, {tokens}, {split_sums(['cost_total'])}, MIN(price_source), "
        f"MAX(price_source) FROM usage WHERE {BILL_PRICED_ROWS} AND bucket_start >= ? AND bucket_start < ? "
        "GROUP BY provider, account, model ORDER BY provider, account, model"
    )
    return [
        BillPriced(p, a, m, n, join_pairs([hi, lo])[0], first.split()[-1], last.split()[-1])
        for p, a, m, n, hi, lo, first, last in conn.execute(sql, (start, end))
    ]


def unpriced_per_local_day(
    conn: sqlite3.Connection, dims: Sequence[str], *, since: int, until: int, tz: ZoneInfo
) -> Iterator[tuple[tuple[str, ...], int, int]]:
    """(dims values, local epoch day in `tz`, unpriced tokens) per group of the buckets starting at or
    after `since` that have unpriced tokens; days exact up to `until`."""
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimension(s) {', '.join(unknown)}")
    cols = ", ".join(map(quote, dims))
    day = local_day_sql(tz, since, until)
    sql = (
        f"SELECT {cols}, {day} AS day, SUM(unpriced_tokens) FROM usage WHERE {UNPRICED_ROWS} "
        f"AND bucket_start >= ? GROUP BY {cols}, day"
    )
    n = len(dims)
    for values in conn.execute(sql, (since,)):
        yield tuple(values[:n]), values[n], values[n + 1]
